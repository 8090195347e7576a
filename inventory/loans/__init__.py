"""Bookings of classes mobiles, custody and loans of equipment (to classrooms, staff, families)."""
