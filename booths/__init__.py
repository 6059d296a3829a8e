"""Expo, halls, booths, rooms, chat and presence."""
