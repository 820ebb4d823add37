"""Behaviour events: what members do in the mini-program and on the web, short of buying."""
