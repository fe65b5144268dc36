//! The database file itself: created owner-only, never through a symbolic link, and made
//! owner-only when it was not.

use crate::Error;
use std::fs::OpenOptions;
use std::path::Path;

/// What opening the file found and did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Opened {
    /// The file was created.
    pub created: bool,
    /// The file let its group or others in: its permission bits were these, and are now
    /// `0o600` (owner read and write only).
    pub tightened_from: Option<u32>,
}

/// Creates the file readable and writable by its owner only if it does not exist; refuses a
/// symbolic link; makes an existing file owner-only.
pub(crate) fn prepare(path: &Path) -> Result<Opened, Error> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => return Err(Error::Symlink),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::File(e)),
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    match options.open(path) {
        Ok(_) => Ok(Opened {
            created: true,
            tightened_from: None,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => tighten(path),
        Err(e) => Err(Error::File(e)),
    }
}

/// Makes an existing file owner-only, opened without following a link.
fn tighten(path: &Path) -> Result<Opened, Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| {
                if e.raw_os_error() == Some(libc::ELOOP) {
                    Error::Symlink
                } else {
                    Error::File(e)
                }
            })?;
        let mode = file.metadata().map_err(Error::File)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(Error::File)?;
            return Ok(Opened {
                created: false,
                tightened_from: Some(mode),
            });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(Opened::default())
}
