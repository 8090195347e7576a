"""Personal data (RGPD): the privacy notice, the retention of reporters' contact data,
a person's data exported or erased, and the register of processing."""
