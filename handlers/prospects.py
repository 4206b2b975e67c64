"""``/api/crm/prospect``: prospects, the top-level resource."""

from prospect_mock.web.endpoints import CollectionEndpoints

_prospects = CollectionEndpoints("prospects")

list = _prospects.list
get = _prospects.get
create = _prospects.create
update = _prospects.update
delete = _prospects.delete
