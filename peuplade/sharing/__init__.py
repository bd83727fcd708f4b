"""Posts shared outside Peuplade: the page behind a shared link (``/p/<token>``).

An author may make a post "partageable hors de Peuplade" (the box on its form,
peuplade/posts/forms.py): it then has a link of its own, with a random token. Whoever
opens it and cannot see the post (not a member, or not in its reach) finds a teaser:
the title, the kind of post and the quartier, the first photo only if the author
allowed it, never a name, a position or a distance, and an invitation to join. A
member who can see the post goes straight to it. A post that is not shareable, no
longer on the lists or hidden by the moderation, has no teaser: the link answers as
any address that does not exist. docs/sharing.md.
"""
