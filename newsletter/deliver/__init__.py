"""deliver: the audience, merge tokens, MIME messages, provider exports and transports."""
