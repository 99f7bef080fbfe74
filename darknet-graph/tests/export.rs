//! Exports: CSV layouts and .npy files, write errors.

use darknet_core::{Packet, Trace, NANOS_PER_DAY};
use darknet_graph::{
    build_snapshots, reference_distances, write_node_lookup_csv, write_npy, write_port_graph_csv,
    write_port_index_csv, write_snapshot_edges_csv, write_snapshot_features_csv, DistanceConfig,
    GraphError, HostThreshold, PortGraph, SnapshotConfig,
};
use std::net::Ipv4Addr;
use std::path::PathBuf;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("darknet-graph-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn trace() -> Trace {
    let p = |h: u8, port: u16, k: u64| Packet {
        ts_ns: NANOS_PER_DAY + k,
        src: Ipv4Addr::new(192, 0, 2, h),
        dst_port: port,
        ..Packet::default()
    };
    Trace::from_packets([p(1, 22, 1), p(1, 23, 2), p(1, 22, 3), p(2, 80, 4)])
}

#[test]
fn port_graph_files() {
    let d = dir("pg");
    let g = PortGraph::from_trace(&trace()).unwrap();
    write_port_graph_csv(&g, d.join("edges.csv")).unwrap();
    let text = std::fs::read_to_string(d.join("edges.csv")).unwrap();
    assert_eq!(
        text,
        "proto_src,port_src,proto_dst,port_dst,theta,w_prime,w\n\
         tcp,22,tcp,23,1,0,0\ntcp,23,tcp,22,1,0,0\n"
    );
    write_port_index_csv(&g, d.join("ports.csv")).unwrap();
    let text = std::fs::read_to_string(d.join("ports.csv")).unwrap();
    assert_eq!(text, "row,proto,port\n0,tcp,22\n1,tcp,23\n2,tcp,80\n");
    let dist = reference_distances(&g, &DistanceConfig::default()).unwrap();
    write_npy(&dist.distances, d.join("d.npy")).unwrap();
    write_npy(&dist.reachable, d.join("m.npy")).unwrap();
    let bytes = std::fs::read(d.join("d.npy")).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let header = String::from_utf8_lossy(&bytes[..128]);
    assert!(header.contains("'shape': (3, 3)"), "{header}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn snapshot_files() {
    let d = dir("snap");
    let cfg = SnapshotConfig::default().host_threshold(HostThreshold::AtLeast(1));
    let set = build_snapshots(&trace(), &cfg).unwrap();
    let label = |a: Ipv4Addr| (a.octets()[3] == 1).then_some("mirai");
    write_snapshot_edges_csv(&set, 0, label, d.join("g.txt")).unwrap();
    // Hosts .1 (id 0), .2 (id 1); ports 22 (2), 23 (3), 80 (4).
    let text = std::fs::read_to_string(d.join("g.txt")).unwrap();
    assert_eq!(text, "0,2,2,mirai\n0,3,1,mirai\n1,4,1,unknown\n");
    write_snapshot_features_csv(&set, 0, d.join("f.csv")).unwrap();
    let text = std::fs::read_to_string(d.join("f.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 5);
    assert!(lines[0].starts_with("index,0,1,2,"));
    assert!(lines[0].ends_with(",35,36"));
    assert_eq!(lines[1].split(',').count(), 38);
    assert!(lines[1].starts_with("0,1,1,1,1,1,"), "{}", lines[1]);
    write_node_lookup_csv(&set, d.join("n.csv")).unwrap();
    let text = std::fs::read_to_string(d.join("n.csv")).unwrap();
    assert_eq!(
        text,
        "id,kind,value\n0,host,192.0.2.1\n1,host,192.0.2.2\n2,port,22\n3,port,23\n4,port,80\n"
    );
    assert!(matches!(
        write_snapshot_edges_csv(&set, 5, label, d.join("x")),
        Err(GraphError::IndexOutOfRange {
            index: 5,
            len: 1,
            ..
        })
    ));
    assert!(matches!(
        write_snapshot_features_csv(&set, 1, d.join("x")),
        Err(GraphError::IndexOutOfRange { .. })
    ));
    // An edited set (public fields) gives an error, not a panic.
    let mut broken = set.clone();
    broken.snapshots[0].edges[0].port = 99;
    assert!(matches!(
        write_snapshot_edges_csv(&broken, 0, label, d.join("x")),
        Err(GraphError::IndexOutOfRange { index: 99, .. })
    ));
    assert_eq!(broken.snapshots[0].adjacency().nnz(), 2, "bad edge skipped");
    std::fs::remove_dir_all(d).unwrap();
}

/// `.npy` bytes equal what `numpy.save` (numpy 2.4) writes for the same arrays, header padding
/// included; a transposed view is written in its logical (C) order.
#[test]
fn npy_bytes_are_numpys() {
    use darknet_graph::npy_bytes;
    fn file(dict: &str, data: &str) -> Vec<u8> {
        let mut header = dict.to_string();
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend(
            (0..data.len() / 2).map(|i| u8::from_str_radix(&data[2 * i..2 * i + 2], 16).unwrap()),
        );
        out
    }
    let pad = |n: usize| " ".repeat(n);
    let f32s = ndarray::Array::from_iter((0..6).map(|i| i as f32))
        .into_shape_with_order((2, 3))
        .unwrap();
    assert_eq!(
        npy_bytes(&f32s),
        file(
            &format!(
                "{{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}{}",
                pad(20)
            ),
            "000000000000803f0000004000004040000080400000a040"
        )
    );
    assert_eq!(
        npy_bytes(&ndarray::array![true, false, true]),
        file(
            &format!(
                "{{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }}{}",
                pad(20)
            ),
            "010001"
        )
    );
    assert_eq!(
        npy_bytes(&ndarray::arr0(2.5f64)),
        file(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
            "0000000000000440"
        )
    );
    assert_eq!(
        npy_bytes(&ndarray::Array2::<u32>::zeros((0, 4))),
        file(
            &format!(
                "{{'descr': '<u4', 'fortran_order': False, 'shape': (0, 4), }}{}",
                pad(20)
            ),
            ""
        )
    );
    let t = ndarray::Array::from_iter((0..6).map(|i| i as f32))
        .into_shape_with_order((3, 2))
        .unwrap();
    let want = ndarray::array![[0.0f32, 2.0, 4.0], [1.0, 3.0, 5.0]];
    assert_eq!(npy_bytes(&t.t()), npy_bytes(&want));
}

#[test]
fn write_errors_name_the_file() {
    let g = PortGraph::from_trace(&trace()).unwrap();
    let bad = PathBuf::from("/nonexistent-dir/x.csv");
    match write_port_graph_csv(&g, &bad) {
        Err(GraphError::Csv { path, .. }) => assert_eq!(path, bad),
        other => panic!("{other:?}"),
    }
    let a = ndarray::Array2::<f32>::zeros((1, 1));
    assert!(matches!(
        write_npy(&a, "/nonexistent-dir/x.npy"),
        Err(GraphError::Npy { .. })
    ));
}
