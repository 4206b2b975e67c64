"""``/api/crm/prospect-opportunity``: a prospect's opportunities, an ordered list of line items."""

from prospect_mock.web.endpoints import LineItemEndpoints

_opportunities = LineItemEndpoints("prospect_opportunities")

list = _opportunities.list
create = _opportunities.create
update = _opportunities.update
delete = _opportunities.delete
reorder = _opportunities.reorder
