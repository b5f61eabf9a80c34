"""Fetching a member page's figures: the calls a page needs (plan), run at once on a shared
pool (service) within the lookup slots (slots), cached by member id (cache, codec), with the
last-known figures standing in during an outage (last_known). Outcomes and the lookup's scope
are the types the page reads (outcome, scope). Nothing here imports forms or the page."""
