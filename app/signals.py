"""Signals through which modules learn of each other's changes without importing each other."""

from blinker import Namespace

_signals = Namespace()

#: sent with the comment after a comment is accepted (any status)
comment_submitted = _signals.signal("comment-submitted")
#: sent with the comment and the action after a moderator decides
comment_moderated = _signals.signal("comment-moderated")
#: sent with the draft after it is published for comment
draft_published = _signals.signal("draft-published")
#: sent with the version after a version's clauses are stored
version_created = _signals.signal("version-created")
#: sent with the app and `since` (naive UTC) when this process is subscribed to the Socket.IO
#: message queue again: what was broadcast since then may not have reached its clients
message_queue_restored = _signals.signal("message-queue-restored")
