"""Deterministic demo account (``--contacts N``, seeded RNG).

Always: account summary with a physical address, three CONFIRMED sender
emails and one UNCONFIRMED.  With N > 0 also: custom fields, lists, tags,
N contacts (mixed permissions, ~1% deleted, ~5% unsubscribed with opt-out
dates), three segments, and past sent campaigns with tracking data.
100,000 contacts seed in a few seconds: records are built directly.
"""
from __future__ import annotations

import random
import uuid

from .clock import iso

FIRST = ("Ava Ben Cara Dev Eli Fay Gus Hana Ivan Jo Kai Lena Milo Nia Omar Pia Quinn Rosa Sam Tara "
         "Uma Vik Wren Xena Yuri Zoe Alex Bea Carl Dana Emil Flo Gabe Hugo Iris Jack Kira Liam Maya Noah").split()
LAST = ("Smith Jones Patel Garcia Nguyen Kim Müller Rossi Silva Cohen Novak Berg Dubois Tanaka Okafor "
        "Larsen Ivanova Moreau Costa Walsh Byrne Haddad Singh Lopez Weber Kowalski Ali Sato Olsen Reyes").split()
COMPANIES = ("Acme Corp", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises",
             "Soylent", "Vandelay", "Wonka", None, None, None)
JOBS = ("Engineer", "Manager", "Director", "Designer", "Analyst", "Owner", None, None)
CITIES = (("Boston", "MA", "02108"), ("Denver", "CO", "80202"), ("Austin", "TX", "73301"),
          ("Portland", "OR", "97201"), ("Chicago", "IL", "60601"))
LISTS = (("Newsletter", 0.55, True), ("Customers", 0.20, False), ("Prospects", 0.25, False),
         ("VIP", 0.04, True), ("Events", 0.10, False), ("Webinar attendees", 0.07, False),
         ("Partners", 0.02, False), ("Beta testers", 0.03, False))
TAGS = ("lead", "customer", "churn-risk", "newsletter-signup", "webinar", "trade-show", "referral",
        "high-value", "inactive", "imported")
CUSTOM_FIELDS = (("Favorite Color", "string"), ("Member Since", "date"), ("Plan", "string"),
                 ("Loyalty Points", "number"), ("Region", "string"))
SENDERS = (("owner@ccsim-demo.example", "CONFIRMED", ["CONTACT", "BILLING"]),
           ("news@ccsim-demo.example", "CONFIRMED", ["REPLY_TO"]),
           ("support@ccsim-demo.example", "CONFIRMED", ["OTHER"]),
           ("unverified@ccsim-demo.example", "UNCONFIRMED", ["OTHER"]))
DEMO_HTML = ('<html><body>[[trackingImage]]<h1>{title}</h1><p>Hello from the demo account.</p>'
             '<p><a href="https://www.example.com/offer">See the offer</a> | '
             '<a href="https://www.example.com/blog">Read the blog</a> | '
             '<a href="https://www.example.com/events">Upcoming events</a></p>'
             '<p><a href="https://www.example.com/preferences">Email preferences</a></p></body></html>')


def _uuid(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seed_account(st, n_contacts: int, seed: int = 42):
    rng = random.Random(seed)
    now = st.clock.time()
    with st.lock:
        _account(st, now)
        if n_contacts <= 0:
            return
        fields = _custom_fields(st, rng, now)
        lists = _lists(st, rng, now)
        tags = _tags(st, rng, now)
        _contacts(st, rng, now, n_contacts, fields, lists, tags)
        _segments(st, lists, now)
        _campaigns(st, rng, now, lists, seed)
        st.touch()


def _account(st, now):
    st.account = {
        "contact_email": "owner@ccsim-demo.example", "contact_phone": "617-555-0100", "country_code": "US",
        "encoded_account_id": "a07e1simdemo", "first_name": "Demo", "last_name": "Owner",
        "organization_name": "ccsim Demo Co", "organization_phone": "617-555-0100", "state_code": "MA",
        "time_zone_id": "US/Eastern", "website": "https://ccsim-demo.example",
        "physical_address": {"address_line1": "1 Main St", "address_line2": "Suite 100", "city": "Boston",
                             "state_code": "MA", "postal_code": "02108", "country_code": "US"},
        "company_logo": {"url": "https://ccsim-demo.example/logo.png", "external_url": "https://ccsim-demo.example/logo.png",
                         "internal_id": "logo-1"},
    }
    st.account_emails = []
    for i, (addr, status, roles) in enumerate(SENDERS, 1):
        e = {"email_address": addr, "email_id": i, "confirm_status": status, "roles": roles, "pending_roles": []}
        if status == "CONFIRMED":
            e.update(confirm_time=iso(now - 400 * 86400), confirm_source_type="SITE_OWNER")
        st.account_emails.append(e)
    st.next_email_id = len(SENDERS) + 1
    st.dirty = True


def _custom_fields(st, rng, now):
    out = []
    for label, ftype in CUSTOM_FIELDS:
        fid = _uuid(rng)
        st.custom_fields[fid] = {"custom_field_id": fid, "label": label, "name": label.lower().replace(" ", "_"),
                                 "type": ftype, "version": 2, "created_at": iso(now - 700 * 86400),
                                 "updated_at": iso(now - 700 * 86400)}
        out.append(fid)
    return out


def _lists(st, rng, now):
    out = []
    for i, (name, share, fav) in enumerate(LISTS):
        lid = _uuid(rng)
        ts = iso(now - (720 - i * 30) * 86400)
        st.lists[lid] = {"list_id": lid, "name": name, "description": f"Demo list: {name}", "favorite": fav,
                         "created_at": ts, "updated_at": ts}
        out.append((lid, share))
    return out


def _tags(st, rng, now):
    out = []
    for name in TAGS:
        tid = _uuid(rng)
        ts = iso(now - 500 * 86400)
        st.tags[tid] = {"tag_id": tid, "name": name, "created_at": ts, "updated_at": ts, "tag_source": "Contact"}
        out.append(tid)
    return out


def _contacts(st, rng, now, n, fields, lists, tags):
    span = 730 * 86400
    rand = rng.random
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = now - span + span * i / max(n, 1) + rand() * 60
        updated = max(created, min(now - 60, created + rand() * 90 * 86400))
        cts, uts = iso(created), iso(updated)
        r = rand()
        perm = ("implicit" if r < 0.62 else "explicit" if r < 0.88 else "unsubscribed" if r < 0.93
                else "pending_confirmation" if r < 0.96 else "not_set" if r < 0.98 else "temp_hold")
        src = "Contact" if perm == "explicit" else "Account"
        em = {"address": f"{first}.{last}.{i}@example.com".lower().replace("ü", "u"), "permission_to_send": perm,
              "created_at": cts, "updated_at": uts, "opt_in_source": src, "confirm_status": "off"}
        if perm in ("implicit", "explicit"):
            em["opt_in_date"] = cts
        if perm == "unsubscribed":
            em.update(opt_out_source="Contact", opt_out_date=iso(min(now - 60, updated + rand() * 30 * 86400)),
                      opt_out_reason="Not interested")
        c = {"contact_id": _uuid(rng), "email_address": em, "first_name": first, "last_name": last,
             "create_source": src, "update_source": src, "created_at": cts, "updated_at": uts}
        comp = rng.choice(COMPANIES)
        if comp:
            c["company_name"] = comp
            job = rng.choice(JOBS)
            if job:
                c["job_title"] = job
        if rand() < 0.3:
            c["birthday_month"], c["birthday_day"] = rng.randint(1, 12), rng.randint(1, 28)
        c["list_memberships"] = [lid for lid, share in lists if rand() < share]
        c["taggings"] = [t for t in tags if rand() < 0.08]
        c["custom_fields"] = ([{"custom_field_id": fields[0], "value": rng.choice(("red", "green", "blue"))}]
                              if rand() < 0.4 else [])
        if rand() < 0.3:
            c["custom_fields"].append({"custom_field_id": fields[3], "value": str(rng.randint(0, 5000))})
        c["phone_numbers"] = ([{"phone_number_id": _uuid(rng), "phone_number": f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                                "kind": "mobile", "created_at": cts, "updated_at": cts}] if rand() < 0.35 else [])
        if rand() < 0.25:
            city, state, zipc = rng.choice(CITIES)
            c["street_addresses"] = [{"street_address_id": _uuid(rng), "kind": "home",
                                      "street": f"{rng.randint(1, 999)} Elm St", "city": city, "state": state,
                                      "postal_code": zipc, "country": "United States",
                                      "created_at": cts, "updated_at": cts}]
        else:
            c["street_addresses"] = []
        c["notes"] = []
        if rand() < 0.01:
            c["deleted_at"] = uts[:10]
        st.add_contact(c)


def _segments(st, lists, now):
    vip = lists[3][0]
    defs = (
        ("VIP members", {"type": "and", "group": [{"source": "list_membership", "field": "list_id",
                                                   "op": "contains-any", "const_value": [vip]}]}),
        ("Acme people", {"type": "and", "group": [{"source": "contact", "field": "company_name",
                                                   "op": "eq", "const_value": "Acme Corp"}]}),
        ("Not opened last 5", {"type": "and", "group": [{"source": "tracking", "field": "not_opened",
                                                         "op": "contains-any", "const_value": "last-n-campaigns",
                                                         "param": "5"}]}),
    )
    import json
    for name, crit in defs:
        sid = st.next_segment_id
        st.next_segment_id += 1
        ts = iso(now - 100 * 86400 + sid * 3600)
        st.segments[sid] = {"segment_id": sid, "name": name, "created_at": ts, "edited_at": ts,
                            "segment_criteria": json.dumps({"version": "1.0.0", "criteria": crit})}


def _campaigns(st, rng, now, lists, seed):
    from .delivery import deliver
    from .resources.emails import make_campaign
    pa = {"address_line1": "1 Main St", "city": "Boston", "country_code": "US", "organization_name": "ccsim Demo Co",
          "postal_code": "02108", "state_code": "MA"}
    # Sent to the bigger lists, so the demo's report charts have some shape.
    plan = (("Spring Launch", 0, 60), ("Summer Sale", 1, 30), ("Autumn Webinar", 2, 7), ("Draft: Winter Preview", None, 0))
    for name, list_idx, days_ago in plan:
        act = {"from_name": "ccsim Demo Co", "from_email": "news@ccsim-demo.example",
               "reply_to_email": "news@ccsim-demo.example", "subject": name, "preheader": f"{name} is here"}
        camp = make_campaign(st, name, 5, act, DEMO_HTML.format(title=name), pa)
        ts = iso(now - days_ago * 86400 - 3600)
        camp["created_at"] = camp["updated_at"] = ts
        a = st.campaign_activities[camp["_primary"]]
        if list_idx is None:
            a["contact_list_ids"] = [lists[0][0]]
            continue
        a["contact_list_ids"] = [lists[list_idx][0]]
        deliver(st, a, now - days_ago * 86400, seed)
