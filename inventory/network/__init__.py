"""School networks: address plans, prefixes, VLANs, DHCP ranges, addresses, Wi-Fi and
the classrooms' connection (access points' coverage, network sockets), on netaddr."""
