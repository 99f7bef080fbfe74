//! The capture inputs of a command line: files and directories given as positional arguments or
//! with `--input`, resolved by darknet-core to the captures to read, with a warning for every
//! file skipped and every file given twice.
use crate::{errln, CliError};
use darknet_core::io::inputs::{resolve, CaptureFile, CaptureStream};
use std::path::PathBuf;

/// Capture inputs: positional paths and `--input` paths alike (files, directories, `-` for
/// standard input).
#[derive(clap::Args, Debug, Clone, Default, serde::Serialize)]
pub struct InputArgs {
    /// Capture files or directories (pcap, pcapng, CSV; gzip-compressed too; `-` = stdin).
    /// Without any: the built-in synthetic darknet.
    #[arg(value_name = "INPUT")]
    pub paths: Vec<PathBuf>,
    /// More capture files or directories (same as the positional inputs).
    #[arg(long = "input", value_name = "INPUT", num_args = 1..)]
    pub flagged: Vec<PathBuf>,
}

impl InputArgs {
    /// Every path given, positional first, in order.
    pub fn all(&self) -> Vec<PathBuf> {
        self.paths.iter().chain(&self.flagged).cloned().collect()
    }

    /// True when no input was given (the synthetic darknet is used).
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.flagged.is_empty()
    }

    /// The captures to read (darknet-core's [`resolve`]: directories expanded, captures found
    /// by their first bytes, gzip-compressed ones included, each file once, sorted by path);
    /// empty when no input was given. Every warning (a file skipped, a file given twice) goes
    /// to stderr as `PROGRAM: warning: ...`.
    ///
    /// # Errors
    /// darknet-core's errors naming the path: a missing input, a file given by name that is
    /// not a capture, no capture at all.
    pub fn resolve(&self, program: &str) -> Result<Vec<CaptureFile>, CliError> {
        if self.is_empty() {
            return Ok(Vec::new());
        }
        let inputs = resolve(&self.all())?;
        for w in &inputs.warnings {
            errln!("{program}: warning: {w}");
        }
        Ok(inputs.files)
    }

    /// [`resolve`](Self::resolve) as paths.
    ///
    /// # Errors
    /// Those of [`resolve`](Self::resolve).
    pub fn resolve_paths(&self, program: &str) -> Result<Vec<PathBuf>, CliError> {
        Ok(self.resolve(program)?.into_iter().map(|f| f.path).collect())
    }
}

/// Prints a loud warning for every capture of `stream` from which nothing could be decoded.
pub fn warn_nothing_decoded(program: &str, stream: &CaptureStream) {
    for e in stream.nothing_decoded() {
        errln!("{program}: warning: {e}; is it the capture you meant?");
    }
}
