//! Label rules and files: the ≥ 2 reports rule, ground truth, known scanners, Mirai, errors,
//! and round trips with the synthetic darknet's label files.
use darknet_core::label::{
    labels_from_reports, mirai_sources, read_abuse_reports, read_ground_truth, read_known_scanners,
    write_abuse_reports, write_ground_truth, write_known_scanners, write_multilabels, Ipv4Prefix,
    KnownScanners, LabelRule, ReportCount, PAPER_A_CATEGORIES,
};
use darknet_core::{CoreError, Packet, SynthConfig, Trace};
use std::net::Ipv4Addr;

fn reports(text: &str) -> Vec<darknet_core::AbuseReport> {
    read_abuse_reports(text.as_bytes(), "reports.csv").unwrap()
}

#[test]
fn two_reports_rule() {
    let r = reports(
        "ip,categories,reporter,date\n\
         1.2.3.4,\"14,18\",1,2021-03-01\n\
         1.2.3.4,14,2,2021-03-02\n\
         1.2.3.4,\"18,4\",1,20210303\n\
         5.6.7.8,22,9,2021-03-04T10:11:12Z\n\
         5.6.7.8,\"22,10\",8,2021-03-05\n\
         9.9.9.9,19,3,2021-03-05\n",
    );
    assert_eq!(r.len(), 6);
    assert_eq!(r[0].categories, vec![14, 18]);
    let l = labels_from_reports(&r, &LabelRule::default());
    // 1.2.3.4: 14 by reporters 1 and 2 -> label; 18 twice by reporter 1 -> one witness, no label.
    assert_eq!(
        l.ips,
        vec![Ipv4Addr::new(1, 2, 3, 4), Ipv4Addr::new(5, 6, 7, 8)]
    );
    assert_eq!(l.masks, vec![0b1, 0b100_0000]);
    assert_eq!(l.dropped_categories.get(&4), Some(&1));
    assert_eq!(l.dropped_categories.get(&10), Some(&1));
    // Counting every report: reporter 1's two 18s now count.
    let every = labels_from_reports(
        &r,
        &LabelRule {
            count: ReportCount::Reports,
            ..LabelRule::default()
        },
    );
    assert_eq!(every.masks[0], 0b101);
    assert_eq!(every.mask_of(Ipv4Addr::new(9, 9, 9, 9)), 0);
    let one = labels_from_reports(
        &r,
        &LabelRule {
            min_reports: 1,
            ..LabelRule::default()
        },
    );
    assert_eq!(one.mask_of(Ipv4Addr::new(9, 9, 9, 9)), 0b1000);
    assert_eq!(l.matrix().len(), 14);
    assert_eq!(&l.matrix()[7..], &[0., 0., 0., 0., 0., 0., 1.]);
    assert_eq!(PAPER_A_CATEGORIES, [14, 15, 18, 19, 20, 21, 22]);
}

fn label_error(e: CoreError) -> (u64, String) {
    match e {
        CoreError::Label {
            input, line, field, ..
        } => {
            assert!(!input.is_empty());
            (line, field)
        }
        other => panic!("not a label error: {other:?}"),
    }
}

#[test]
fn report_errors_name_line_and_field() {
    let h = "ip,categories,reporter,date\n1.1.1.1,14,1,2021-03-01\n";
    for (row, field) in [
        ("1.1.1.300,14,1,2021-03-01", "ip"),
        ("1.1.1.1,24,1,2021-03-01", "categories"),
        ("1.1.1.1,0,1,2021-03-01", "categories"),
        ("1.1.1.1,\"14,x\",1,2021-03-01", "categories"),
        ("1.1.1.1,,1,2021-03-01", "categories"),
        ("1.1.1.1,14,,2021-03-01", "reporter"),
        ("1.1.1.1,14,1,2021-02-30", "date"),
        ("1.1.1.1,14,1,20é1-03-01xx", "date"),
        ("1.1.1.1,14", "reporter"),
    ] {
        let text = format!("{h}{row}\n");
        let e = read_abuse_reports(text.as_bytes(), "r.csv").unwrap_err();
        assert_eq!(label_error(e), (3, field.to_string()), "{row}");
    }
    let e = read_abuse_reports("address,cats\n".as_bytes(), "r.csv").unwrap_err();
    assert_eq!(label_error(e), (1, "header".to_string()));
}

#[test]
fn ground_truth_rules() {
    let gt = read_ground_truth(
        "ip,class\n1.1.1.1,censys\n2.2.2.2,shodan\n1.1.1.1,censys\n".as_bytes(),
        "gt.csv",
    )
    .unwrap();
    assert_eq!(gt.len(), 2);
    assert_eq!(gt.class_of(Ipv4Addr::new(1, 1, 1, 1)), Some("censys"));
    assert_eq!(gt.class_of(Ipv4Addr::new(3, 3, 3, 3)), None);
    for (text, line, field) in [
        ("ip,class\n1.1.1.1,censys\n1.1.1.1,shodan\n", 3, "class"),
        ("ip,class\nfoo,censys\n", 2, "ip"),
        ("ip,class\n1.1.1.1,\n", 2, "class"),
        ("ip,label\n", 1, "header"),
    ] {
        let e = read_ground_truth(text.as_bytes(), "gt.csv").unwrap_err();
        assert_eq!(label_error(e), (line, field.to_string()), "{text}");
    }
}

#[test]
fn known_scanners_longest_prefix() {
    let ks = read_known_scanners(
        "prefix,organization\n10.0.0.0/8,big\n10.1.0.0/16,mid\n10.1.2.0/24,small\n10.1.2.3,one\n"
            .as_bytes(),
        "ks.csv",
    )
    .unwrap();
    let q = |s: &str| ks.lookup(s.parse().unwrap());
    assert_eq!(q("10.1.2.3"), Some("one"));
    assert_eq!(q("10.1.2.4"), Some("small"));
    assert_eq!(q("10.1.3.4"), Some("mid"));
    assert_eq!(q("10.2.0.0"), Some("big"));
    assert_eq!(q("11.0.0.0"), None);
    assert_eq!(KnownScanners::default().lookup(Ipv4Addr::LOCALHOST), None);
    for (row, field) in [
        ("10.0.0.1/8,x", "prefix"),
        ("10.0.0.0/33,x", "prefix"),
        ("nope,x", "prefix"),
        ("10.0.0.0/8,", "organization"),
    ] {
        let e = read_known_scanners(format!("prefix,organization\n{row}\n").as_bytes(), "ks.csv")
            .unwrap_err();
        assert_eq!(label_error(e), (2, field.to_string()), "{row}");
    }
    let p: Ipv4Prefix = "0.0.0.0/0".parse().unwrap();
    assert!(p.contains(Ipv4Addr::BROADCAST));
}

#[test]
fn mirai_fingerprint_sources() {
    let dst = Ipv4Addr::new(198, 18, 0, 5);
    let bot = Packet {
        src: Ipv4Addr::new(1, 1, 1, 1),
        dst,
        tcp_seq: u32::from(dst),
        ..Packet::default()
    };
    let other = Packet {
        src: Ipv4Addr::new(2, 2, 2, 2),
        dst,
        tcp_seq: 7,
        ..Packet::default()
    };
    let half = Packet {
        src: Ipv4Addr::new(3, 3, 3, 3),
        ..bot
    };
    let t = Trace::from_packets(vec![bot, other, half, Packet { tcp_seq: 1, ..half }]);
    assert_eq!(mirai_sources(&t, 1e-9), vec![bot.src, half.src]);
    assert_eq!(mirai_sources(&t, 0.9), vec![bot.src]);
}

#[test]
fn synthetic_label_files_round_trip() {
    let a = SynthConfig::paper_a().hosts(300).days(5).build().unwrap();
    let mut buf = Vec::new();
    write_abuse_reports(&mut buf, a.reports(), "mem").unwrap();
    let back = read_abuse_reports(buf.as_slice(), "mem").unwrap();
    assert_eq!(back, a.reports());
    let labels = labels_from_reports(&back, &LabelRule::default());
    assert_eq!(labels, a.multilabels());
    for h in a.hosts() {
        assert_eq!(labels.mask_of(h.addr), h.labels);
    }
    let mut ml = Vec::new();
    write_multilabels(&mut ml, &labels, "mem").unwrap();
    assert_eq!(
        String::from_utf8(ml).unwrap().lines().count(),
        labels.ips.len() + 1
    );

    let b = SynthConfig::paper_b().hosts(300).days(2).build().unwrap();
    let mut buf = Vec::new();
    write_ground_truth(&mut buf, &b.ground_truth(), "mem").unwrap();
    assert_eq!(
        read_ground_truth(buf.as_slice(), "mem").unwrap(),
        b.ground_truth()
    );
    let mut buf = Vec::new();
    write_known_scanners(&mut buf, &b.known_scanners(), "mem").unwrap();
    let ks = read_known_scanners(buf.as_slice(), "mem").unwrap();
    assert_eq!(ks, b.known_scanners());
    for h in b.hosts().iter().filter(|h| h.organization.is_some()) {
        assert_eq!(ks.lookup(h.addr), h.organization);
    }
}

struct Broken;
impl std::io::Write for Broken {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk full"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn writers_report_io_errors_with_the_output_name() {
    let b = SynthConfig::paper_b().hosts(50).days(1).build().unwrap();
    let e = write_ground_truth(Broken, &b.ground_truth(), "gt.csv").unwrap_err();
    assert!(
        matches!(e, CoreError::Io { ref input, .. } if input == "gt.csv"),
        "{e}"
    );
    let e = write_known_scanners(Broken, &b.known_scanners(), "ks.csv").unwrap_err();
    assert!(matches!(e, CoreError::Io { .. }));
    let a = SynthConfig::paper_a().hosts(50).days(1).build().unwrap();
    assert!(matches!(
        write_abuse_reports(Broken, a.reports(), "r.csv"),
        Err(CoreError::Io { .. })
    ));
    assert!(matches!(
        write_multilabels(Broken, &a.multilabels(), "l.csv"),
        Err(CoreError::Io { .. })
    ));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Label readers never panic on arbitrary bytes after a valid header.
        #[test]
        fn readers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            for header in ["ip,categories,reporter,date\n", "IP,Categories,ReportDate,Comment\n", "ip,class\n", "prefix,organization\n"] {
                let mut bytes = header.as_bytes().to_vec();
                bytes.extend_from_slice(&body);
                let _ = read_abuse_reports(bytes.as_slice(), "p");
                let _ = read_ground_truth(bytes.as_slice(), "p");
                let _ = read_known_scanners(bytes.as_slice(), "p");
            }
        }
    }
}

#[test]
fn reporter_ids_are_opaque_strings() {
    use darknet_core::label::write_abuse_reports;
    let r = reports(
        "ip,categories,reporter,date\n\
         1.2.3.4,14,reporter0283,2021-03-01\n\
         1.2.3.4,14,reporter0283,2021-03-02\n\
         5.6.7.8,22,0283,2021-03-01\n\
         5.6.7.8,22,283,2021-03-01\n\
         9.9.9.9,18,\"feed, inc.\",2021-03-01\n\
         9.9.9.9,18,4711,2021-03-01\n",
    );
    assert_eq!(r[0].reporter, "reporter0283");
    let l = labels_from_reports(&r, &LabelRule::default());
    // One named reporter twice is one witness; `0283` and `283` are two reporters.
    assert_eq!(
        l.ips,
        vec![Ipv4Addr::new(5, 6, 7, 8), Ipv4Addr::new(9, 9, 9, 9)]
    );
    // Names with commas survive a write and a read.
    let mut out = Vec::new();
    write_abuse_reports(&mut out, &r, "out.csv").unwrap();
    assert_eq!(read_abuse_reports(&out[..], "out.csv").unwrap(), r);
}

#[test]
fn category_lists_take_comma_semicolon_or_pipe() {
    let r = reports(
        "ip,categories,reporter,date\n\
         1.2.3.4,\"14,18\",a,2021-03-01\n\
         1.2.3.4,14;18,b,2021-03-01\n\
         1.2.3.4,14|18| 22,c,2021-03-01\n\
         1.2.3.4, 18 ; 14 ,d,2021-03-01\n",
    );
    for rep in &r[..2] {
        assert_eq!(rep.categories, vec![14, 18]);
    }
    assert_eq!(r[2].categories, vec![14, 18, 22]);
    assert_eq!(r[3].categories, vec![14, 18]);
    // A bad id inside a `;` list names the line and the field.
    let e = read_abuse_reports(
        "ip,categories,reporter,date\n1.1.1.1,14,a,2021-03-01\n1.1.1.1,14;x,a,2021-03-01\n"
            .as_bytes(),
        "r.csv",
    )
    .unwrap_err();
    assert_eq!(label_error(e), (3, "categories".to_string()));
}

#[test]
fn abuseipdb_bulk_report_layout_is_read() {
    // AbuseIPDB's bulk-report columns; a comment spanning lines inside quotes.
    let text = "IP,Categories,ReportDate,Comment\n\
                192.0.2.7,\"18,22\",2018-12-18T10:00:37-04:00,\"Failed password for invalid user\"\n\
                192.0.2.8,\"14,15,18\",2018-12-18T16:10:58+04:00,\"probe\nsecond line, with a comma\"\n\
                192.0.2.9,14,2018-12-19,\n";
    let r = read_abuse_reports(text.as_bytes(), "bulk.csv").unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].categories, vec![18, 22]);
    assert_eq!(r[1].categories, vec![14, 15, 18]);
    assert!(r.iter().all(|x| x.reporter == "bulk.csv"));
    assert_eq!(darknet_core::day_label(r[0].day), "20181218");
    // The row after the two-line comment is on line 5.
    let bad = text.replace("192.0.2.9", "192.0.2.999");
    let e = read_abuse_reports(bad.as_bytes(), "bulk.csv").unwrap_err();
    assert_eq!(label_error(e), (5, "ip".to_string()));
    // A header that is neither layout says what was found and what is missing.
    let e = read_abuse_reports("IP,Category\n".as_bytes(), "x.csv").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("ReportDate") && msg.contains("missing date"),
        "{msg}"
    );
}

#[test]
fn category_enum_matches_the_constants() {
    use darknet_core::label::{Category, PAPER_A_CATEGORY_NAMES};
    for (k, c) in Category::PAPER_A.into_iter().enumerate() {
        assert_eq!(c.id(), PAPER_A_CATEGORIES[k]);
        assert_eq!(c.name(), Some(PAPER_A_CATEGORY_NAMES[k]));
        assert_eq!(c.paper_a_index(), Some(k));
        assert_eq!(Category::from_id(c.id()), c);
        assert_eq!(c.to_string().parse::<Category>(), Ok(c));
        assert_eq!(c.id().to_string().parse::<Category>(), Ok(c));
        assert_eq!(serde_json::to_string(&c).unwrap(), c.id().to_string());
    }
    assert_eq!("Brute-Force".parse::<Category>(), Ok(Category::BruteForce));
    assert_eq!("brute_force".parse::<Category>(), Ok(Category::BruteForce));
    assert_eq!(
        "WEB APP ATTACK".parse::<Category>(),
        Ok(Category::WebAppAttack)
    );
    assert_eq!("4".parse::<Category>(), Ok(Category::Other(4)));
    assert_eq!(Category::Other(4).to_string(), "4");
    assert_eq!(Category::Other(4).paper_a_index(), None);
    assert_eq!(
        serde_json::from_str::<Category>("22").unwrap(),
        Category::Ssh
    );
    let err = "DDoS".parse::<Category>().unwrap_err();
    assert!(err.contains("Port Scan"), "{err}");
    assert!("".parse::<Category>().is_err());
}

#[test]
fn headers_ignore_case_and_byte_order_mark() {
    let gt = read_ground_truth("\u{feff}IP,Class\n1.1.1.1,censys\n".as_bytes(), "gt.csv").unwrap();
    assert_eq!(gt.class_of(Ipv4Addr::new(1, 1, 1, 1)), Some("censys"));
    let r = read_abuse_reports(
        "\u{feff}IP,Categories,Reporter,Date\n1.1.1.1,14,a,2021-03-01\n".as_bytes(),
        "r.csv",
    )
    .unwrap();
    assert_eq!(r.len(), 1);
}

#[test]
fn ipv6_rows_say_so() {
    let e = read_abuse_reports(
        "IP,Categories,ReportDate,Comment\n2001:db8::1,14,2021-03-01,x\n".as_bytes(),
        "bulk.csv",
    )
    .unwrap_err();
    assert!(e.to_string().contains("IPv6"), "{e}");
    assert_eq!(label_error(e), (2, "ip".to_string()));
}
