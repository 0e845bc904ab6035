//! Headless output: stdout written without ever blocking the runtime's thread.
//!
//! The headless runtime has one thread, and the receiver answers on it. A blocking write to a
//! pipe nobody drains (a paused pager, a stuck consumer) or to a terminal stopped with Ctrl-S
//! would stop that thread, and every sender would wait on it until its provider timed out.
//!
//! So on Linux, when stdout is a pipe or a terminal, it is opened again through
//! `/proc/self/fd/1`: that makes a new open file description of its own, which is marked
//! non-blocking and written whenever epoll says it can take more. Marking the inherited
//! descriptor non-blocking instead would change it for the shell and every other process that
//! shares it. Regular files and `/dev/null`, which do not stall and which epoll does not take,
//! and what cannot be opened again (a socket), are written with plain blocking writes.
//!
//! A stalled stdout then holds up only the printer: deliveries queue in the receiver's channel,
//! and only once that is full do answers wait (backpressure, never loss).

use std::io::{self, Write as _};

/// Where headless lines go.
pub struct Output {
    inner: Inner,
}

enum Inner {
    /// A pipe or terminal of our own, non-blocking. (tokio's pipe writer is a plain
    /// non-blocking fd registered with epoll, which serves a terminal just as well.)
    #[cfg(target_os = "linux")]
    Ready(tokio::net::unix::pipe::Sender),
    /// The process's stdout, written with blocking writes.
    Blocking(io::Stdout),
}

impl Output {
    /// The process's stdout, non-blocking where it can stall and that is possible.
    pub fn stdout() -> Output {
        let inner =
            reopen_nonblocking("/proc/self/fd/1").unwrap_or_else(|| Inner::Blocking(io::stdout()));
        Output { inner }
    }

    /// The pipe or terminal at `path` (`/proc/self/fd/N`) opened as `stdout` opens fd 1.
    #[cfg(all(test, target_os = "linux"))]
    pub(crate) fn reopened(path: &str) -> Option<Output> {
        reopen_nonblocking(path).map(|inner| Output { inner })
    }

    /// Writes some of `buf` (at least one byte; all of it when stdout blocks), waiting
    /// without blocking the thread while the reader is behind: how much went out.
    pub async fn write_some(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            // Whole lines in one call: the line buffering inside Stdout writes them through in
            // one go rather than splitting them.
            Inner::Blocking(out) => out
                .write_all(buf)
                .and_then(|()| out.flush())
                .map(|()| buf.len()),
            #[cfg(target_os = "linux")]
            Inner::Ready(tx) => match tokio::io::AsyncWriteExt::write(tx, buf).await? {
                0 if !buf.is_empty() => Err(io::ErrorKind::WriteZero.into()),
                n => Ok(n),
            },
        }
    }
}

#[cfg(target_os = "linux")]
fn reopen_nonblocking(path: &str) -> Option<Inner> {
    use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
    // Only pipes and character devices (terminals; /dev/null is refused by epoll below).
    // Opening a regular file again would start a second write offset at 0.
    let kind = std::fs::metadata(path).ok()?.file_type();
    if !(kind.is_fifo() || kind.is_char_device()) {
        return None;
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .ok()?;
    // Registering with epoll fails for what it cannot watch (/dev/null).
    tokio::net::unix::pipe::Sender::from_file_unchecked(file)
        .ok()
        .map(Inner::Ready)
}

#[cfg(not(target_os = "linux"))]
fn reopen_nonblocking(_path: &str) -> Option<Inner> {
    // Elsewhere /dev/fd/N duplicates the descriptor rather than opening the file again, so
    // marking it non-blocking would reach the shared description: keep blocking writes.
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::Read as _;
    use std::os::fd::AsRawFd as _;
    use std::time::Duration;

    /// The pipe or terminal at `path` opened as `Output::stdout` opens fd 1.
    fn open(path: &str) -> Option<Output> {
        reopen_nonblocking(path).map(|inner| Output { inner })
    }

    /// All of `buf`, a `write_some` at a time, as the headless printer writes.
    async fn write_all(out: &mut Output, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = out.write_some(buf).await?;
            buf = &buf[n..];
        }
        Ok(())
    }

    /// The status flags of one of our descriptors, from /proc (octal there).
    fn flags(fd: i32) -> u32 {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
        let line = info.lines().find(|l| l.starts_with("flags:")).unwrap();
        u32::from_str_radix(line["flags:".len()..].trim(), 8).unwrap()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_full_pipe_makes_the_writer_wait_without_blocking_the_thread() {
        let (mut reader, writer) = std::io::pipe().unwrap();
        let fd = writer.as_raw_fd();
        let mut out = open(&format!("/proc/self/fd/{fd}")).unwrap();
        assert!(matches!(out.inner, Inner::Ready(_)));
        // The inherited description stays blocking: only our own is non-blocking.
        assert_eq!(flags(fd) & libc::O_NONBLOCK as u32, 0);

        // Far more than a pipe holds (64 KiB by default). The reader starts only after the
        // 200 ms below: a blocking write would hold the thread until then and finish in time.
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let drain = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1000));
            let mut got = vec![0u8; expected.len()];
            reader.read_exact(&mut got).map(|()| got == expected)
        });
        let mut write = std::pin::pin!(write_all(&mut out, &data));
        let stalled = tokio::time::timeout(Duration::from_millis(200), &mut write).await;
        assert!(
            stalled.is_err(),
            "the write held the thread until the reader came"
        );

        // Once the pipe drains, the rest goes through, in order, nothing lost.
        write.await.unwrap();
        assert!(drain.join().unwrap().unwrap());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn write_some_says_how_much_a_full_pipe_took() {
        let (mut reader, writer) = std::io::pipe().unwrap();
        let mut out = open(&format!("/proc/self/fd/{}", writer.as_raw_fd())).unwrap();
        let data = vec![b'x'; 1_000_000];
        // What the pipe holds, no more, and at once: the caller sees progress as it happens.
        let took = tokio::time::timeout(Duration::from_secs(5), out.write_some(&data))
            .await
            .expect("a pipe with room takes some at once")
            .unwrap();
        assert!(took > 0 && took < data.len(), "{took}");
        let mut got = vec![0u8; took];
        reader.read_exact(&mut got).unwrap();
        assert!(got.iter().all(|&b| b == b'x'));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn regular_files_and_dev_null_keep_blocking_writes() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let path = file.path().to_str().unwrap();
        assert!(open(path).is_none(), "a regular file was reopened");
        assert!(open("/dev/null").is_none(), "epoll took /dev/null");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_pipe_whose_reader_is_gone_is_a_broken_pipe() {
        let (reader, writer) = std::io::pipe().unwrap();
        let mut out = open(&format!("/proc/self/fd/{}", writer.as_raw_fd())).unwrap();
        drop(reader);
        let err = write_all(&mut out, b"line\n").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
