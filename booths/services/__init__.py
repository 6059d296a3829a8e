"""Domain services: rooms and access, chat, presence. No transport code here."""
