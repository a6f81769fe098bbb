"""Placement through openstacksdk (`conn.placement`), as Terraform-style tools and scripts use it:
providers, inventories, classes, traits, aggregates, allocations and candidates at the SDK's own
microversion choices. SQLite only (the guide and concurrency tests cover PostgreSQL)."""
import uuid

import openstack
import pytest

# SQLite only: the guide and concurrency tests cover PostgreSQL.
pytestmark = pytest.mark.parametrize("cloud", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def conn(cloud):
    c = openstack.connect(auth_url=cloud.auth_url, username="admin", password=cloud.password, project_name="admin",
                          user_domain_id="default", project_domain_id="default", region_name="RegionOne")
    yield c
    c.close()


def test_providers_inventories_traits_and_aggregates(conn):
    p = conn.placement
    name = "sdk-" + uuid.uuid4().hex[:8]
    rp = p.create_resource_provider(name=name)
    assert p.get_resource_provider(rp.id).name == name
    assert name in [r.name for r in p.resource_providers()]
    assert p.find_resource_provider(name).id == rp.id

    inv = p.create_resource_provider_inventory(rp, resource_class="VCPU", total=8, allocation_ratio=2.0)
    assert inv.total == 8
    shown = p.get_resource_provider_inventory(inv, resource_provider=rp)
    assert shown.total == 8 and shown.allocation_ratio == 2.0
    assert [i.resource_class for i in p.resource_provider_inventories(rp)] == ["VCPU"]

    rc = "CUSTOM_SDK_" + uuid.uuid4().hex[:6].upper()
    p.create_resource_class(name=rc)
    assert rc in [c.name for c in p.resource_classes()]
    trait = "CUSTOM_SDK_" + uuid.uuid4().hex[:6].upper()
    p.create_trait(name=trait)
    assert p.get_trait(trait).id == trait  # GET /traits/{name} is a 204: the SDK keeps the id

    agg = str(uuid.uuid4())
    rp = p.get_resource_provider(rp.id)
    p.set_resource_provider_aggregates(rp, agg)
    assert agg in p.get_resource_provider_aggregates(rp).aggregates

    usages = p.fetch_resource_provider_usages(p.get_resource_provider(rp.id)) if hasattr(p, "fetch_resource_provider_usages") else None
    if usages is not None:
        assert usages.usages.get("VCPU", 0) == 0

    p.delete_resource_provider_inventory(inv, resource_provider=rp)
    p.delete_resource_class(rc)
    p.delete_trait(trait)
    p.delete_resource_provider(rp)
    assert name not in [r.name for r in p.resource_providers()]
