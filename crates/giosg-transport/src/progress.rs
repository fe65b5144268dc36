//! The read timeout's second half, shared by the transports: a body must keep coming.

use giosg_query::{TimeoutKind, TransportError};
use std::time::{Duration, Instant};

/// The least a body must bring per read timeout.
pub const MIN_PROGRESS: usize = 1024;

/// Watches a body being read: it must bring [`MIN_PROGRESS`] bytes per read timeout, so one
/// that dribbles (a byte a second, each read well within the per-read timeout) is cut with a
/// read [`TimeoutKind`].
///
/// ```
/// use giosg_transport::ReadProgress;
/// let mut progress = ReadProgress::new(std::time::Duration::from_secs(30));
/// assert!(progress.advance(4096).is_ok());
/// ```
#[derive(Debug)]
pub struct ReadProgress {
    window: Duration,
    since: Instant,
    bytes: usize,
}

impl ReadProgress {
    /// Starts watching, with the transport's read timeout.
    pub fn new(window: Duration) -> Self {
        ReadProgress {
            window,
            since: Instant::now(),
            bytes: 0,
        }
    }

    /// Counts `n` bytes just read; fails when less than [`MIN_PROGRESS`] came in a window.
    pub fn advance(&mut self, n: usize) -> Result<(), TransportError> {
        self.bytes += n;
        if self.bytes >= MIN_PROGRESS {
            self.since = Instant::now();
            self.bytes = 0;
        } else if self.since.elapsed() > self.window {
            return Err(TransportError::timed_out(
                TimeoutKind::Read,
                format!(
                    "the body brought less than {MIN_PROGRESS} bytes in {:?}",
                    self.window
                ),
            ));
        }
        Ok(())
    }
}
