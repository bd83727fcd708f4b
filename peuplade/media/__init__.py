"""Photos served and sent: the pages and JSON API over ``peuplade.photos``.

It sits above every feature, so it loads a photo's post through that feature's own
``get_<thing>_or_404`` (who may see a photo is exactly who may see its post), an avatar's
member through ``account.queries.get_member_or_404``, and lets moderators remove a photo
through ``moderation.services``.
"""
