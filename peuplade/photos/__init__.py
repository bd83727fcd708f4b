"""Photos on posts and members' avatars: cleaned on the server, served to who may see them."""
