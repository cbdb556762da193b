//go:build unix

package cgi

import (
	"os"
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the script in a process group of its own and makes
// cancelling kill that whole group: killing only the shell of a script that
// runs `sleep 30` would leave the sleep holding stdout open.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if err == syscall.ESRCH {
			return os.ErrProcessDone
		}
		return err
	}
}

// killGroup kills what is left of the script's process group once the
// script itself has ended. The group's id stays reserved while any member
// lives, so it cannot name another's group.
func killGroup(cmd *exec.Cmd) {
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
