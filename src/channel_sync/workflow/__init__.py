"""Deal-registration workflow on top of the sync: registrations, channel conflicts, co-sell."""
