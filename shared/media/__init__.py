"""Photos and videos in conversations (docs/conversations.md "Photos and videos").

The upload side: a file is sniffed by its bytes, size-limited, cleaned of what it says about its
author's place and device (images re-encoded, videos' metadata boxes neutralised), stored in the
`ugc` blob container under a fresh unguessable name and recorded in `conversation_media`; a message
then claims it. Files are read only through short-lived signed links.
"""
