//! Files for Python users and for checking: CSV in the reference code's layouts, `.npy` arrays.
//!
//! | function | file layout |
//! |---|---|
//! | [`write_port_graph_csv`] | header `proto_src,port_src,proto_dst,port_dst,theta,w_prime,w`, one row per edge |
//! | [`write_port_index_csv`] | header `row,proto,port`: the port of each distance-matrix row |
//! | [`write_npy`] | any f32 / bool array as `.npy` (numpy `np.load`) |
//! | [`write_snapshot_edges_csv`] | gnn-for-darknet `data/graph/DATE.txt`: no header, `src_id,dst_id,weight,label` |
//! | [`write_snapshot_features_csv`] | gnn-for-darknet `features_DATE.csv`: header `index,0..36`, one row per global node |
//! | [`write_node_lookup_csv`] | header `id,kind,value`: `host` + address or `port` + number / `oth` |

use crate::error::{GraphError, Result};
use crate::port_graph::PortGraph;
use crate::snapshot::{SnapshotSet, SNAPSHOT_N_FEATURES};
use ndarray::{ArrayBase, Data, Dimension};
use std::net::Ipv4Addr;
use std::path::Path;

fn writer(path: &Path, header: bool) -> Result<csv::Writer<std::fs::File>> {
    csv::WriterBuilder::new()
        .has_headers(header)
        .from_path(path)
        .map_err(|source| GraphError::Csv {
            path: path.to_path_buf(),
            source,
        })
}

fn csv_err(path: &Path) -> impl Fn(csv::Error) -> GraphError + '_ {
    move |source| GraphError::Csv {
        path: path.to_path_buf(),
        source,
    }
}

fn flush(mut w: csv::Writer<std::fs::File>, path: &Path) -> Result<()> {
    w.flush().map_err(|e| GraphError::Csv {
        path: path.to_path_buf(),
        source: csv::Error::from(e),
    })
}

/// Writes the port graph's edges: `proto_src,port_src,proto_dst,port_dst,theta,w_prime,w`
/// (protocols as `tcp` / `udp`), edges sorted by `(from, to)` node index.
///
/// # Errors
/// [`GraphError::Csv`] when the file cannot be written.
pub fn write_port_graph_csv(graph: &PortGraph, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let mut w = writer(path, false)?;
    let e = csv_err(path);
    w.write_record([
        "proto_src",
        "port_src",
        "proto_dst",
        "port_dst",
        "theta",
        "w_prime",
        "w",
    ])
    .map_err(&e)?;
    let ports = graph.ports();
    for edge in graph.edges() {
        let (a, b) = (ports[edge.from as usize], ports[edge.to as usize]);
        w.write_record([
            a.proto.to_string(),
            a.port.to_string(),
            b.proto.to_string(),
            b.port.to_string(),
            edge.theta.to_string(),
            edge.w_prime.to_string(),
            edge.w.to_string(),
        ])
        .map_err(&e)?;
    }
    flush(w, path)
}

/// Writes the port ↔ row map of a port graph (and of its distance matrix): `row,proto,port`.
///
/// # Errors
/// [`GraphError::Csv`].
pub fn write_port_index_csv(graph: &PortGraph, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let mut w = writer(path, false)?;
    let e = csv_err(path);
    w.write_record(["row", "proto", "port"]).map_err(&e)?;
    for (i, p) in graph.ports().iter().enumerate() {
        w.write_record([i.to_string(), p.proto.to_string(), p.port.to_string()])
            .map_err(&e)?;
    }
    flush(w, path)
}

/// An element type `.npy` files can hold, with numpy's little-endian type string.
pub trait NpyElement: Copy {
    /// numpy's `descr` of the type (`<f4`, `|b1`, ...).
    const DESCR: &'static str;
    /// Appends the value's little-endian bytes.
    fn put(self, out: &mut Vec<u8>);
}

macro_rules! npy_element {
    ($($t:ty => $d:literal),* $(,)?) => {$(
        impl NpyElement for $t {
            const DESCR: &'static str = $d;
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
npy_element!(f32 => "<f4", f64 => "<f8", i32 => "<i4", i64 => "<i8", u8 => "|u1", u16 => "<u2",
    u32 => "<u4", u64 => "<u8");

impl NpyElement for bool {
    const DESCR: &'static str = "|b1";
    fn put(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
}

/// The `.npy` version 1.0 header of an array of `shape` holding `A`s in C order, padded with
/// spaces so that the data starts at a multiple of 64 bytes, byte for byte as `numpy.save`.
fn npy_header<A: NpyElement>(shape: &[usize]) -> Vec<u8> {
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {dims}, }}",
        A::DESCR
    );
    // numpy leaves room for the first axis to grow to 21 digits, so that a file can be appended
    // to in place; doing the same gives numpy's bytes exactly.
    if let Some(first) = shape.first() {
        dict.extend(std::iter::repeat_n(
            ' ',
            21usize.saturating_sub(first.to_string().len()),
        ));
    }
    // magic (6) + version (2) + header length (2) + dict + '\n', to a multiple of 64.
    let unpadded = 10 + dict.len() + 1;
    dict.extend(std::iter::repeat_n(
        ' ',
        unpadded.next_multiple_of(64) - unpadded,
    ));
    dict.push('\n');
    let mut out = Vec::with_capacity(10 + dict.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// An array as the bytes of a `.npy` file (format 1.0, C order, little-endian), what
/// `numpy.save` writes for the same array; any memory layout of `array` is accepted.
///
/// ```
/// let a = ndarray::array![[1.0f32, 2.0], [3.0, 4.0]];
/// let bytes = darknet_graph::npy_bytes(&a);
/// assert_eq!(&bytes[..6], b"\x93NUMPY");
/// assert_eq!(bytes.len(), 128 + 4 * 4); // numpy's header, padded to 128 bytes, then 4 f32
/// ```
pub fn npy_bytes<A, S, D>(array: &ArrayBase<S, D>) -> Vec<u8>
where
    A: NpyElement,
    S: Data<Elem = A>,
    D: Dimension,
{
    let mut out = npy_header::<A>(array.shape());
    out.reserve(array.len() * std::mem::size_of::<A>());
    // `iter` walks the logical (C) order whatever the strides are.
    for &x in array.iter() {
        x.put(&mut out);
    }
    out
}

/// Writes an array as `.npy` (for example `ReferenceDistances::distances`, shape
/// (n_ports, R), or its `reachable` mask), readable with `numpy.load`.
///
/// # Errors
/// [`GraphError::Npy`] when the file cannot be written.
pub fn write_npy<A, S, D>(array: &ArrayBase<S, D>, path: impl AsRef<Path>) -> Result<()>
where
    A: NpyElement,
    S: Data<Elem = A>,
    D: Dimension,
{
    let path = path.as_ref();
    std::fs::write(path, npy_bytes(array)).map_err(|source| GraphError::Npy {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes snapshot `t`'s edges in gnn-for-darknet's graph-file layout: no header, rows
/// `src_id,dst_id,weight,label` with global ids (host id, port id) and `label(host)` or
/// `unknown`.
///
/// # Errors
/// [`GraphError::IndexOutOfRange`] for a bad `t`; [`GraphError::Csv`].
pub fn write_snapshot_edges_csv<F, S>(
    set: &SnapshotSet,
    t: usize,
    label: F,
    path: impl AsRef<Path>,
) -> Result<()>
where
    F: Fn(Ipv4Addr) -> Option<S>,
    S: AsRef<str>,
{
    let snap = set.snapshots().get(t).ok_or(GraphError::IndexOutOfRange {
        what: "snapshot",
        index: t,
        len: set.snapshots().len(),
    })?;
    let path = path.as_ref();
    let mut w = writer(path, false)?;
    let e = csv_err(path);
    for edge in snap.edges() {
        // Checked lookups: the sets' fields are public, so an edited set must not panic.
        let ids = snap.node_ids();
        let bad = |index: usize, len: usize| GraphError::IndexOutOfRange {
            what: "snapshot edge endpoint",
            index,
            len,
        };
        let h = *ids
            .get(edge.host as usize)
            .ok_or(bad(edge.host as usize, ids.len()))?;
        let p = *ids
            .get(edge.port as usize)
            .ok_or(bad(edge.port as usize, ids.len()))?;
        let addr = *set
            .hosts()
            .get(h as usize)
            .ok_or(bad(h as usize, set.hosts().len()))?;
        let l = label(addr);
        let l = l.as_ref().map_or("unknown", |s| s.as_ref());
        w.write_record([
            h.to_string(),
            p.to_string(),
            edge.packets.to_string(),
            l.to_string(),
        ])
        .map_err(&e)?;
    }
    flush(w, path)
}

/// Writes snapshot `t`'s features in gnn-for-darknet's layout: header `index,0,1,…,36`, one row
/// per global node id (hosts then ports, ascending), zeros for nodes inactive that day.
///
/// # Errors
/// [`GraphError::IndexOutOfRange`] for a bad `t`; [`GraphError::Csv`].
pub fn write_snapshot_features_csv(
    set: &SnapshotSet,
    t: usize,
    path: impl AsRef<Path>,
) -> Result<()> {
    if t >= set.snapshots().len() {
        return Err(GraphError::IndexOutOfRange {
            what: "snapshot",
            index: t,
            len: set.snapshots().len(),
        });
    }
    let feats = set.global_features(t);
    let path = path.as_ref();
    let mut w = writer(path, false)?;
    let e = csv_err(path);
    let mut header = vec!["index".to_string()];
    header.extend((0..SNAPSHOT_N_FEATURES).map(|c| c.to_string()));
    w.write_record(&header).map_err(&e)?;
    let mut rec = Vec::with_capacity(SNAPSHOT_N_FEATURES + 1);
    for (i, row) in feats.rows().into_iter().enumerate() {
        rec.clear();
        rec.push(i.to_string());
        rec.extend(row.iter().map(|v| v.to_string()));
        w.write_record(&rec).map_err(&e)?;
    }
    flush(w, path)
}

/// Writes the global node ids of a snapshot set: `id,kind,value` with kind `host` (value = the
/// address) or `port` (value = the port number or `oth`), the reference code's
/// `ip_lookup.json` and `port_lookup.json` in one table.
///
/// # Errors
/// [`GraphError::Csv`].
pub fn write_node_lookup_csv(set: &SnapshotSet, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let mut w = writer(path, false)?;
    let e = csv_err(path);
    w.write_record(["id", "kind", "value"]).map_err(&e)?;
    for (i, h) in set.hosts().iter().enumerate() {
        w.write_record([i.to_string(), "host".into(), h.to_string()])
            .map_err(&e)?;
    }
    for (j, p) in set.ports().iter().enumerate() {
        w.write_record([
            (set.hosts().len() + j).to_string(),
            "port".into(),
            p.to_string(),
        ])
        .map_err(&e)?;
    }
    flush(w, path)
}
