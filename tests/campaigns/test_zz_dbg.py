from tests.campaigns.test_campaigns_list import *  # noqa
def test_dbg(world, mirrored, login):
    r = login(world.viewer).get(campaign_url(world, "campaign_list"))
    print(r.content.decode()[-4000:])
    assert 0
