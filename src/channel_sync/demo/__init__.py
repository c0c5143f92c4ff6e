"""``channel-sync demo``: the product's story, end to end, against sandbox CRMs in-process."""
