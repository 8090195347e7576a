"""Suppliers and what the collectivité signs with them: the directory, contracts
(maintenance, warranty extension, leasing), the terms of the digital services' subscriptions,
maintenance records and planned visits, and the alerts before each of them ends."""
