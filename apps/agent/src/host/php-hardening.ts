/**
 * The pool's `disable_functions`, with the reason for each group (docs/adr/0018-php-hardening.md).
 * Every entry is either a way out of the pool's confinement (open_basedir, the site's own uid
 * and cgroup) or a process/signal tool WordPress core never calls on a request (checked against
 * core 6.1: only `mail()`, through PHPMailer, and `dl()`, in the unused FTP filesystem, appear).
 */
export const DISABLED_FUNCTION_GROUPS: readonly { readonly reason: string; readonly functions: readonly string[] }[] = [
  {
    reason: 'run a program through a shell or a pipe: nothing of open_basedir or disable_functions holds there',
    functions: ['exec', 'passthru', 'shell_exec', 'system', 'popen', 'proc_open', 'proc_close', 'proc_get_status', 'proc_nice', 'proc_terminate'],
  },
  {
    // mail() runs sendmail_path through /bin/sh with the caller's environment and extra arguments
    // (sendmail -X/-C read and write files outside open_basedir); sites send over SMTP instead.
    reason: 'send mail through a local program: a shell outside open_basedir',
    functions: ['mail', 'mb_send_mail', 'imap_open', 'imap_mail'],
  },
  {
    reason: 'change the environment: putenv(LD_PRELOAD=...) plus any program started loads the tenant’s library',
    functions: ['putenv'],
  },
  {
    reason: 'make links and FIFOs: a link points root or nginx at another file, a FIFO blocks whoever opens it',
    functions: ['symlink', 'link', 'posix_mkfifo', 'posix_mknod'],
  },
  {
    reason: 'load native code into the worker',
    functions: ['dl'],
  },
  {
    reason: 'fork, signal or exec from the worker (pcntl is loaded by Debian’s PHP)',
    functions: ['pcntl_exec', 'pcntl_fork', 'pcntl_signal', 'pcntl_signal_dispatch', 'pcntl_alarm', 'pcntl_wait', 'pcntl_waitpid', 'pcntl_setpriority', 'pcntl_unshare'],
  },
  {
    reason: 'signal other processes of the site or change identity, session or limits',
    functions: ['posix_kill', 'posix_setuid', 'posix_setgid', 'posix_seteuid', 'posix_setegid', 'posix_setsid', 'posix_setpgid', 'posix_setrlimit'],
  },
];

/** The flat list for the pool's `php_admin_value[disable_functions]`. */
export const DISABLED_FUNCTIONS: readonly string[] = DISABLED_FUNCTION_GROUPS.flatMap((group) => group.functions);
