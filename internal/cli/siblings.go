package cli

func (a *app) echo(args []string) error { return usagef("echo is not yet supported") }
func (a *app) time(args []string) error { return usagef("time is not yet supported") }
