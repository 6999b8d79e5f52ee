"""The broadcasts feature's services, one module per concern: creating (creation), planning the
deliveries (planning), claiming them (claims), sending (sending), taking a broadcast back
(deletion), the BAN button (bans), progress and export (progress), picking up what dead workers
left (resume), telling owners (owners); debug codes (codes)."""
