"""``/api/crm/prospect-lead``: a prospect's leads, an ordered list of line items."""

from prospect_mock.web.endpoints import LineItemEndpoints

_leads = LineItemEndpoints("prospect_leads")

list = _leads.list
create = _leads.create
update = _leads.update
delete = _leads.delete
reorder = _leads.reorder
