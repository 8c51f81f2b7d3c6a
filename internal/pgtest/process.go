package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// account is a user to run the server binaries as.
type account struct{ uid, gid uint32 }

// prepare makes the server's directory, owned by the user the server runs
// as: the postgres user when we are root (initdb and postgres refuse root),
// else ourselves.
func (s *Server) prepare() error {
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return err
	}
	s.dir = dir
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root, PostgreSQL must run as another user, and there is no postgres user: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("the postgres user's ids: %w", err)
	}
	s.runAs = &account{uid: uint32(uid), gid: uint32(gid)}
	// MkdirTemp made it 0700 and ours; /tmp above it lets anyone through.
	return os.Chown(dir, int(uid), int(gid))
}

// command is bin of the server's binaries with args, run as the server's
// user, in its directory.
func (s *Server) command(ctx context.Context, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bins, bin), args...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = sysProcAttr(s.runAs)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

// initdb creates the cluster: user postgres, trust or a password, UTF-8,
// no locale, no fsync (it is thrown away).
func (s *Server) initdb() error {
	args := []string{"-D", filepath.Join(s.dir, "data"), "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync"}
	if s.password == "" {
		args = append(args, "--auth=trust")
	} else {
		pwfile := filepath.Join(s.dir, "pwfile")
		if err := os.WriteFile(pwfile, []byte(s.password+"\n"), 0o600); err != nil {
			return err
		}
		if s.runAs != nil {
			if err := os.Chown(pwfile, int(s.runAs.uid), int(s.runAs.gid)); err != nil {
				return err
			}
		}
		defer func() { _ = os.Remove(pwfile) }()
		args = append(args, "--auth=scram-sha-256", "--pwfile="+pwfile)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if out, err := s.command(ctx, "initdb", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

var errPortTaken = errors.New("port already in use")

// launch starts postgres on s.port and waits until it accepts a connection.
func (s *Server) launch() error {
	logFile, err := os.Create(filepath.Join(s.dir, "postgres.log"))
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }() // the child has its own descriptor
	cmd := s.command(context.Background(), "postgres",
		"-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(s.port),
		"-k", s.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=300",
		"-c", "shared_buffers=32MB",
		"-c", "fsync=off",
		"-c", "full_page_writes=off",
		"-c", "logging_collector=off",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.proc, s.exited = cmd, exited

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err = s.waitReady(ctx); err == nil {
		return nil
	}
	s.Stop()
	if log := s.log(); strings.Contains(log, "could not bind") || strings.Contains(log, "already in use") {
		return fmt.Errorf("%w: %d", errPortTaken, s.port)
	}
	return fmt.Errorf("postgres on port %d did not start: %w; its log:\n%s", s.port, err, s.log())
}

// waitReady polls the server until a connection is accepted and answers.
func (s *Server) waitReady(ctx context.Context) error {
	db, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return errors.New("postgres exited")
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
