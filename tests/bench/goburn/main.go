// goburn: the peer for linepool's CPU-bound scaling rows. One goroutine per connection reads
// lines and answers them exactly as tests/integration/burn_plugin.c does: "burn N" spins N
// microseconds of thread CPU time and answers "ok". Usage: goburn PORT (0 picks one; the
// chosen port is printed as "listening on 127.0.0.1:PORT").
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

const clockThreadCPUTimeID = 3

func threadCPUNs() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Sec*1e9 + ts.Nsec
}

// spin burns us microseconds of CPU on one OS thread, as the C plugin does.
func spin(us int64) {
	runtime.LockOSThread()
	until := threadCPUNs() + us*1000
	for threadCPUNs() < until {
	}
	runtime.UnlockOSThread()
}

func serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		if len(line) > 5 && string(line[:5]) == "burn " {
			if us, err := strconv.ParseInt(string(line[5:len(line)-1]), 10, 64); err == nil {
				spin(us)
				w.WriteString("ok\n")
			}
		} else {
			w.WriteString("ERR burn: unknown\n")
		}
		if r.Buffered() == 0 {
			if w.Flush() != nil {
				return
			}
		}
	}
}

func main() {
	port := "0"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go serve(c)
	}
}
