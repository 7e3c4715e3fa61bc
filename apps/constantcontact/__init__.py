"""The upstream boundary: the only code that talks HTTP to Constant Contact.

Other apps call `apps.constantcontact.gate.gate_for(...)`; nothing else here is
meant to be imported from outside except the catalog (read-only data), the
typed errors and the connection model.
"""
