package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// parseArgs parses args with fs, flags and positional arguments in any
// order — "subkit bulk users.csv -report out.jsonl" as well as the flags
// first — since the flag package alone stops at the first positional
// argument and would take the flags after it for more files. Everything
// after "--" is positional.
//
// -h prints usage (the command's description and fs's flags) on stdout, as
// asked-for help belongs there, and returns flag.ErrHelp. A bad flag is
// reported on stderr with a pointer to -h.
func parseArgs(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) ([]string, error) {
	fs.SetOutput(stderr)
	fs.Usage = func() {} // the error itself is printed by the flag package; help is printed below
	var positional []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprint(stdout, usage)
			fs.PrintDefaults()
			return nil, err
		}
		if err != nil {
			fmt.Fprintf(stderr, "run \"subkit %s -h\" for the flags\n", fs.Name())
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
