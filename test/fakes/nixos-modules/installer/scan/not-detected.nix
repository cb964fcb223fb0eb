# FAKE: an empty module (see README)
{ }
