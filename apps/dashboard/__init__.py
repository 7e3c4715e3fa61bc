"""The frame above the areas: the landing page, each workspace's overview, the
navigation every page shows.

It is the top floor: it may read every area below it, and nothing imports it.
"""
