//! Files that hold chats: created owner-only, never opened through a symbolic link, and made
//! owner-only when they were not. The store's database and the export's files (giosg-sync)
//! are opened with [`open_private`].

use crate::Error;
use std::fs::{File, OpenOptions};
use std::path::Path;

/// What opening a file found and did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Opened {
    /// The file was created.
    pub created: bool,
    /// The file let its group or others in: its permission bits were these, and are now
    /// `0o600` (owner read and write only).
    pub tightened_from: Option<u32>,
}

/// Opens `path` for reading and writing: created readable and writable by its owner only if
/// it does not exist; refused ([`Error::Symlink`]) if it is a symbolic link, dangling or not;
/// made owner-only if its group or others could read it (said in [`Opened`]).
pub fn open_private(path: &Path) -> Result<(File, Opened), Error> {
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let (file, created) = match options.clone().create_new(true).open(path) {
        Ok(file) => (file, true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            (options.open(path).map_err(refusal)?, false)
        }
        Err(e) => return Err(refusal(e)),
    };
    let mut opened = Opened {
        created,
        tightened_from: None,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(Error::File)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(Error::File)?;
            opened.tightened_from = Some(mode);
        }
    }
    Ok((file, opened))
}

/// A failure to open: a symbolic link (`O_NOFOLLOW` says `ELOOP`, and creating through a
/// dangling one says the file exists) is refused as such.
fn refusal(e: std::io::Error) -> Error {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return Error::Symlink;
    }
    Error::File(e)
}

/// Prepares the database file (see [`open_private`]).
pub(crate) fn prepare(path: &Path) -> Result<Opened, Error> {
    // A dangling link makes `create_new` fail with "exists", then `O_NOFOLLOW` with ELOOP.
    open_private(path).map(|(_, opened)| opened)
}
