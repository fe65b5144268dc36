//! Progress, told to whoever runs a sync or an export.

use giosg_query::Completeness;

/// What a sync or an export tells as it goes: implement the methods you need (each does
/// nothing by default). `()` observes nothing.
///
/// ```
/// use giosg_sync::Observer;
/// #[derive(Default)]
/// struct Count(u64);
/// impl Observer for Count {
///     fn chats(&mut self, n: u64) {
///         self.0 += n;
///     }
/// }
/// ```
pub trait Observer {
    /// How many chats the listing is expected to bring, once the server said (a run that
    /// continues an earlier one does not know).
    fn expected(&mut self, total: u64) {
        let _ = total;
    }

    /// `n` more chats were stored or written.
    fn chats(&mut self, n: u64) {
        let _ = n;
    }

    /// Something worth a warning that did not stop the run (the rooms or users could not be
    /// read with this token, say).
    fn warning(&mut self, message: &str) {
        let _ = message;
    }

    /// The listing ended: how complete it was, with the contradictions it resolved (worth a
    /// warning each) and how many chats it is short of the server's count.
    fn listed(&mut self, completeness: &Completeness) {
        let _ = completeness;
    }
}

impl Observer for () {}
