# Pressluft's site jail (docs/adr/0022-site-jail.md). Run by the agent, as root, as
#   unshare --mount --propagation private [--pid --fork --kill-child] -- /bin/sh enter.sh OP... (exec|run) -- COMMAND...
# Each OP is a fixed word and its arguments (built by apps/agent/src/host/jail.ts from validated
# paths): every value stays one argument, nothing here is parsed as shell code. Programs by
# absolute path: the command's PATH is not this script's business.
set -eu
while [ "$#" -gt 0 ]; do
  case "$1" in
    # Join a cgroup (its cgroup.procs file) before anything else runs here; 0 is this process.
    cgroup) echo 0 >"$2"; shift 2 ;;
    rbind) /usr/bin/mount --rbind -- "$2" "$3"; shift 3 ;;
    # The mount at this path, read-only in this namespace only. One that went away since the agent
    # read the mount list (another process's network namespace, say) is no mount here any more:
    # what is at that path belongs to its parent mount, read-only already. Any other failure stops.
    ro)
      if ! /usr/bin/mount -o remount,bind,ro -- "$2" 2>/dev/null && /usr/bin/mountpoint -q -- "$2"; then
        echo "enter.sh: cannot make $2 read-only" >&2
        exit 1
      fi
      shift 2
      ;;
    tmpfs) /usr/bin/mount -t tmpfs -o "$3" tmpfs "$2"; shift 3 ;;
    # Mount points are only made inside this jail's own tmpfs: the bound-in host tree is read-only by then.
    bind) /usr/bin/mkdir -p -- "$3"; /usr/bin/mount --bind -- "$2" "$3"; shift 3 ;;
    # A new proc: with hidepid=invisible a process sees only its own user's processes.
    proc) /usr/bin/mount -t proc -o nosuid,nodev,noexec,hidepid=invisible proc "$2"; shift 2 ;;
    # The jail's tree becomes / and the host's old root is detached from this namespace.
    pivot) cd -- "$2"; /usr/sbin/pivot_root . .; /usr/bin/umount -l .; cd /; shift 2 ;;
    chdir) cd -- "$2"; shift 2 ;;
    exec) shift 2; exec "$@" ;;
    # As PID 1 of a new PID namespace: the command runs as a child; when this shell exits, the
    # kernel kills whatever the command left behind in the namespace. Standard input goes on.
    run)
      shift 2
      exec 3<&0
      "$@" <&3 3<&- &
      set +e
      wait "$!"
      exit "$?"
      ;;
    *) echo "enter.sh: unknown operation $1" >&2; exit 125 ;;
  esac
done
echo 'enter.sh: no command' >&2
exit 125
