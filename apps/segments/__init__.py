"""The segments area: audiences Constant Contact defines by rules over contact data.

Screens to list, read, build, rename and delete segments; a criteria builder
that checks rules locally before Constant Contact sees them; a size estimate from
the mirror (apps/mirror/selectors/segments.py, which campaigns and bulk jobs use
too) and an exact count from Constant Contact on request; and the sync that
keeps the mirrored segments fresh.
"""
