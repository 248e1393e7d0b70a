"""Tourism: homestays with bookings and channel sync; places, tours, events and stories."""
