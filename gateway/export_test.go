package gateway

// Internals that the external tests derive their bounds from.
const (
	WarnBurst          = warnBurst
	WarnInterval       = warnInterval
	MaxReadLimit       = maxReadLimit
	MsgWarnsSuppressed = msgWarnsSuppressed
)
