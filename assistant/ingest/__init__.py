"""Articles in: reading, cleaning, chunking, and managing the corpus folder."""
