//! Processes that `les` starts for evaluations (commands, isolated libraries): each in its
//! own process group, killed as a group with `kill(2)`, and none outliving `les`.
//!
//! **Nothing outlives `les`.** On Linux the process gets `PR_SET_PDEATHSIG`, so it is killed
//! when `les` dies, even by `kill -9`; a small watchdog process in its group (forked before the
//! program starts, holding no file descriptors) then kills the rest of the group, the
//! grandchildren a script started. The watchdog waits for the process to end and exits when
//! `les` is still alive half a second later, so a finished evaluation is left alone.

use std::process::{Child, Command, ExitStatus};
use std::sync::Mutex;
use std::sync::mpsc;

/// Starts `command` in its own process group, tied to the life of `les`.
///
/// The process is started by one long-lived thread of `les`: Linux sends the parent-death
/// signal when the *thread* that forked a child ends, and an evaluation thread (or a pooled
/// server's first user) may end long before the process it started.
pub fn spawn(mut command: Command) -> std::io::Result<Child> {
    contain(&mut command);
    type Request = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: Mutex<Option<mpsc::Sender<Request>>> = Mutex::new(None);
    let (reply_tx, reply_rx) = mpsc::channel();
    {
        let mut spawner = SPAWNER.lock().unwrap_or_else(|p| p.into_inner());
        let sender = spawner.get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel::<Request>();
            std::thread::Builder::new()
                .name("les-spawner".to_owned())
                .spawn(move || {
                    for (mut command, reply) in rx {
                        let _ = reply.send(command.spawn());
                    }
                })
                .expect("invariant: a thread can be started");
            tx
        });
        if let Err(mpsc::SendError((mut command, _))) = sender.send((command, reply_tx)) {
            // The spawner is gone (cannot happen while the process lives); start it here.
            return command.spawn();
        }
    }
    reply_rx.recv().unwrap_or_else(|_| Err(std::io::Error::other("the process spawner thread ended")))
}

/// Puts the process `command` will start in its own process group, tied to the life of `les`.
fn contain(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let les_pid = std::process::id() as libc::pid_t;
        // SAFETY: the closure runs in the forked child before `exec` and calls only
        // async-signal-safe functions (see `parent_death`).
        unsafe {
            command.pre_exec(move || parent_death::arm(les_pid));
        }
    }
}

/// How long a command's process group has between SIGTERM and SIGKILL: time for a wrapper such
/// as `srun` to cancel its job, or a simulation to flush its files.
pub const TERMINATE_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Ends the process group politely: SIGTERM to the group, then SIGKILL to the group after
/// [`TERMINATE_GRACE`] or as soon as the process itself has exited (what it left behind gets no
/// second chance). Call it only before the child is reaped.
pub fn terminate(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) on a process group this process created; no memory involved.
        unsafe {
            libc::kill(-pgid, libc::SIGTERM);
        }
        let start = std::time::Instant::now();
        while start.elapsed() < TERMINATE_GRACE && !exited_unreaped(pgid) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    kill(child);
}

/// Whether the child `pid` has exited, without reaping it (so its pid, the group's id, stays
/// taken until [`kill`] has signalled the group).
#[cfg(unix)]
fn exited_unreaped(pid: libc::pid_t) -> bool {
    // SAFETY: waitid on our own child with WNOWAIT only reads its state into `info`.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let found =
            libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT);
        found == 0 && info.si_pid() != 0
    }
}

/// Kills the process and, on Unix, its whole process group. Call it only before the child
/// is reaped (a reaped pid may be reused as another group's id).
pub fn kill(child: &mut Child) {
    #[cfg(unix)]
    {
        // The group id is the child's pid (`process_group(0)`); it cannot have been reused,
        // since the child is not reaped yet.
        if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: kill(2) on a process group this process created; no memory involved.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// "exited with status 3" / "was killed by signal 9".
pub fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    format!("ended abnormally ({status})")
}

/// Linux: the process and its group die with `les` (see the module docs).
#[cfg(target_os = "linux")]
mod parent_death {
    /// Runs in the forked command before `exec` (so: async-signal-safe calls only, no
    /// allocation). Sets the parent-death signal, and forks the group's watchdog.
    pub(super) fn arm(les_pid: libc::pid_t) -> std::io::Result<()> {
        // SAFETY: prctl, getppid, fork, sigprocmask and the calls in `watch` are
        // async-signal-safe system calls on valid arguments.
        unsafe {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // `les` died between the fork and the prctl: no signal will come.
            if libc::getppid() != les_pid {
                libc::_exit(137);
            }
            // The watchdog waits for SIGUSR1, its own parent-death signal: blocked first so
            // it is queued, not lost, whenever it arrives.
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR1);
            let command = libc::getpid();
            match libc::fork() {
                -1 => Err(std::io::Error::last_os_error()),
                0 => watch(les_pid, command, &set),
                _ => Ok(()),
            }
        }
    }

    /// The watchdog: holds no file descriptor (the command's pipes must close when the
    /// command ends), waits for the command to end, then kills the group if `les` is gone.
    ///
    /// SAFETY: call only in a freshly forked child; never returns.
    unsafe fn watch(les_pid: libc::pid_t, command: libc::pid_t, set: &libc::sigset_t) -> ! {
        // SAFETY: all are async-signal-safe system calls; `set` is initialised.
        unsafe {
            if libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32) != 0 {
                for fd in 0..1024 {
                    libc::close(fd);
                }
            }
            libc::sigprocmask(libc::SIG_BLOCK, set, std::ptr::null_mut());
            // `command` is the pid before the fork: a parent that already died shows as
            // another parent here, and then there is nothing to wait for.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGUSR1 as libc::c_ulong) == 0 && libc::getppid() == command {
                let mut info: libc::siginfo_t = std::mem::zeroed();
                while libc::sigwaitinfo(set, &mut info) < 0 {}
            }
            // The command has ended (its pid is the group's id). With `les` still there it
            // ended normally, or was killed by `les`, which handles its group itself. `les`
            // may still be on its way out when the signal comes, so look again for a while.
            let pause = libc::timespec { tv_sec: 0, tv_nsec: 10_000_000 };
            for _ in 0..50 {
                if !alive(les_pid) {
                    libc::kill(-libc::getpgrp(), libc::SIGKILL);
                    break;
                }
                libc::nanosleep(&pause, std::ptr::null_mut());
            }
            libc::_exit(0)
        }
    }

    /// Whether `pid` is running: it exists and is not a zombie (a killed `les` stays a zombie
    /// until its parent reaps it). Reads `/proc/PID/stat` into a stack buffer: no allocation.
    ///
    /// SAFETY: async-signal-safe system calls only.
    unsafe fn alive(pid: libc::pid_t) -> bool {
        // SAFETY: kill with signal 0 only checks; open/read/close on a stack buffer.
        unsafe {
            if libc::kill(pid, 0) != 0 {
                return false;
            }
            let mut path = [0u8; 32];
            let prefix = b"/proc/";
            path[..prefix.len()].copy_from_slice(prefix);
            let mut digits = [0u8; 10];
            let (mut n, mut k) = (pid as u32, 0);
            loop {
                digits[k] = b'0' + (n % 10) as u8;
                k += 1;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            let mut at = prefix.len();
            for i in (0..k).rev() {
                path[at] = digits[i];
                at += 1;
            }
            path[at..at + 5].copy_from_slice(b"/stat");
            let fd = libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return false;
            }
            let mut stat = [0u8; 512];
            let read = libc::read(fd, stat.as_mut_ptr().cast(), stat.len());
            libc::close(fd);
            let Ok(read) = usize::try_from(read) else { return false };
            // "PID (COMMAND) STATE …": the state follows the last ')'.
            match stat[..read].iter().rposition(|&b| b == b')') {
                Some(end) if end + 2 < read => !matches!(stat[end + 2], b'Z' | b'X'),
                _ => false,
            }
        }
    }
}
