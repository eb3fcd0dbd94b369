//! Every picture read back as XML: well-formed, the root and its accessible name, the expected
//! elements, escaped texts, "no data" and no division by zero.

use quick_xml::Reader;
use quick_xml::events::Event;
use std::collections::HashMap;
use zhenxing_charts::*;

#[derive(Debug, Default, Clone)]
struct Node {
    name: String,
    attrs: HashMap<String, String>,
    text: String,
    parent: Option<usize>,
}

/// Parses the whole document; fails the test on any XML error.
fn parse(svg: &str) -> Vec<Node> {
    let mut reader = Reader::from_str(svg);
    reader.config_mut().check_end_names = true;
    let mut nodes: Vec<Node> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    loop {
        let event = reader.read_event().unwrap_or_else(|e| panic!("{e}: {svg}"));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let empty = svg.as_bytes()[..reader.buffer_position() as usize].ends_with(b"/>");
                let name = e.name().as_ref().to_owned();
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("attribute");
                        (
                            a.key.as_ref().to_owned(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .expect("value")
                                .into_owned(),
                        )
                    })
                    .collect();
                nodes.push(Node {
                    name,
                    attrs,
                    text: String::new(),
                    parent: stack.last().copied(),
                });
                if !empty {
                    stack.push(nodes.len() - 1);
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                if let Some(&i) = stack.last() {
                    nodes[i].text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let c = match &*r {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "quot" => '"',
                    "apos" => '\'',
                    _ => r.resolve_char_ref().expect("reference").expect("character"),
                };
                if let Some(&i) = stack.last() {
                    nodes[i].text.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements");
    let root = &nodes[0];
    assert_eq!(root.name, "svg");
    assert_eq!(root.attrs["xmlns"], "http://www.w3.org/2000/svg");
    // One image, or a group when it holds links (a map's counties): an image may hold nothing
    // to focus.
    let links = nodes.iter().any(|n| n.name == "a");
    assert_eq!(root.attrs["role"], if links { "group" } else { "img" });
    // Inlined several times in one page: no ids, the style scoped by the root's class.
    assert_eq!(root.attrs["class"], "zx-chart");
    assert!(nodes.iter().all(|n| !n.attrs.contains_key("id")));
    let style = nodes.iter().find(|n| n.name == "style").expect("style");
    assert!(
        style
            .text
            .split('}')
            .filter(|r| !r.is_empty())
            .all(|r| r.starts_with(".zx-chart ")),
        "{}",
        style.text
    );
    assert!(root.attrs["viewBox"].starts_with("0 0 "));
    let children: Vec<&Node> = nodes.iter().filter(|n| n.parent == Some(0)).collect();
    assert_eq!(children[0].name, "title");
    assert_eq!(children[1].name, "desc");
    nodes
}

fn count(nodes: &[Node], name: &str, class: Option<&str>) -> usize {
    nodes
        .iter()
        .filter(|n| {
            n.name == name
                && class.is_none_or(|c| n.attrs.get("class").map(String::as_str) == Some(c))
        })
        .count()
}

fn texts(nodes: &[Node]) -> Vec<String> {
    nodes
        .iter()
        .filter(|n| n.name == "text")
        .map(|n| n.text.clone())
        .collect()
}

fn child_title(nodes: &[Node], parent: usize) -> Option<String> {
    nodes
        .iter()
        .find(|n| n.parent == Some(parent) && n.name == "title")
        .map(|n| n.text.clone())
}

const LABELS: Labels<'static> = Labels {
    title: "各区县监测对象 <b>",
    description: "Monitored households by county",
    no_data: "暂无数据",
};

fn bars() -> Vec<Bar> {
    vec![
        Bar::new("万州区", 120.0),
        Bar::new("<script>alert(1)</script>", 80.5),
        Bar::new("巫溪县", 0.0),
    ]
}

#[test]
fn bar_charts_in_both_orientations() {
    for orientation in [Orientation::Horizontal, Orientation::Vertical] {
        let svg = bar_chart(&LABELS, &bars(), orientation);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"));
        let nodes = parse(&svg);
        assert_eq!(nodes[1].text, "各区县监测对象 <b>");
        assert_eq!(count(&nodes, "rect", Some("zx-bar")), 3);
        let t = texts(&nodes);
        for v in ["120", "80.5", "0"] {
            assert!(t.contains(&v.to_owned()), "{v} in {t:?}");
        }
        assert!(t.contains(&"<script>alert(1)</script>".to_owned()));
        let bar_titles: Vec<String> = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.attrs.get("class").map(String::as_str) == Some("zx-bar"))
            .filter_map(|(i, _)| child_title(&nodes, i))
            .collect();
        assert_eq!(bar_titles[0], "万州区: 120");
        // The largest bar is the longest; the zero bar has no length.
        let len = |i: usize| {
            let b = nodes
                .iter()
                .filter(|n| n.attrs.get("class").map(String::as_str) == Some("zx-bar"))
                .nth(i)
                .unwrap();
            let key = if orientation == Orientation::Horizontal {
                "width"
            } else {
                "height"
            };
            b.attrs[key].parse::<f64>().unwrap()
        };
        assert!(len(0) > len(1) && len(2) == 0.0);
        assert!((len(1) / len(0) - 80.5 / 120.0).abs() < 0.01);
    }
}

#[test]
fn long_labels_get_room() {
    let long = "Youyang Tujia and Miao Autonomous County";
    let two = vec![Bar::new(long, 5.0), Bar::new("Wanzhou District", 3.0)];
    let nodes = parse(&bar_chart(&LABELS, &two, Orientation::Horizontal));
    // The label column grows with the longest label: bars start further right than with
    // short labels.
    let start = |nodes: &[Node]| {
        nodes
            .iter()
            .find(|n| n.attrs.get("class").map(String::as_str) == Some("zx-bar"))
            .unwrap()
            .attrs["x"]
            .parse::<f64>()
            .unwrap()
    };
    let short = parse(&bar_chart(
        &LABELS,
        &[Bar::new("万州区", 1.0)],
        Orientation::Horizontal,
    ));
    assert!(
        start(&nodes) > start(&short) + 100.0,
        "{} {}",
        start(&nodes),
        start(&short)
    );
    // Vertical: 38 long labels are turned; 3 short ones are not.
    let many: Vec<Bar> = (0..38).map(|i| Bar::new(long, f64::from(i))).collect();
    let nodes = parse(&bar_chart(&LABELS, &many, Orientation::Vertical));
    let turned = nodes
        .iter()
        .filter(|n| {
            n.attrs
                .get("transform")
                .is_some_and(|t| t.starts_with("rotate(-40"))
        })
        .count();
    assert_eq!(turned, 38);
    let few = parse(&bar_chart(&LABELS, &bars()[..], Orientation::Vertical));
    assert!(few.iter().all(|n| !n.attrs.contains_key("transform")));
    // Stacked bars turn them the same way, and the legend moves below them.
    let names: Vec<String> = (0..38).map(|_| long.to_owned()).collect();
    let series = [Series {
        name: "legend".into(),
        values: (0..38).map(f64::from).collect(),
    }];
    let legend_y = |nodes: &[Node]| {
        nodes
            .iter()
            .find(|n| n.name == "text" && n.text == "legend")
            .unwrap()
            .attrs["y"]
            .parse::<f64>()
            .unwrap()
    };
    let stacked = parse(&stacked_bar_chart(&LABELS, &names, &series));
    let turned = stacked
        .iter()
        .filter(|n| {
            n.attrs
                .get("transform")
                .is_some_and(|t| t.starts_with("rotate(-40"))
        })
        .count();
    assert_eq!(turned, 38);
    let short: Vec<String> = vec!["a".into(), "b".into()];
    let plain = parse(&stacked_bar_chart(&LABELS, &short, &series));
    assert!(plain.iter().all(|n| !n.attrs.contains_key("transform")));
    assert!(legend_y(&stacked) > legend_y(&plain) + 100.0);
}

#[test]
fn zero_negative_and_missing_maxima_do_not_divide_by_zero() {
    let cases = [
        vec![Bar::new("a", 0.0), Bar::new("b", 0.0)],
        vec![Bar::new("a", -5.0), Bar::new("b", -1.0)],
        vec![Bar::new("a", f64::NAN), Bar::new("b", f64::INFINITY)],
        vec![Bar::new("a", f64::MAX), Bar::new("b", 1.0)],
    ];
    for bars in cases {
        for o in [Orientation::Horizontal, Orientation::Vertical] {
            let svg = bar_chart(&LABELS, &bars, o);
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
            let nodes = parse(&svg);
            assert_eq!(count(&nodes, "rect", Some("zx-bar")), 2);
        }
    }
    let svg = bar_chart(&LABELS, &[Bar::new("a", -5.0)], Orientation::Horizontal);
    assert!(texts(&parse(&svg)).contains(&"-5".to_owned()));
}

#[test]
fn empty_data_says_no_data() {
    let pictures = [
        bar_chart(&LABELS, &[], Orientation::Horizontal),
        stacked_bar_chart(&LABELS, &[], &[]),
        histogram(&LABELS, &[], None),
        histogram(
            &LABELS,
            &[Bin {
                from: 5.0,
                to: 1.0,
                count: 3,
            }],
            None,
        ),
        line_chart(&LABELS, &[], &[]),
        line_chart(
            &LABELS,
            &["2025-01".into()],
            &[Series {
                name: "x".into(),
                values: vec![f64::NAN],
            }],
        ),
    ];
    for svg in pictures {
        let nodes = parse(&svg);
        assert!(texts(&nodes).contains(&"暂无数据".to_owned()), "{svg}");
    }
}

#[test]
fn stacked_bars_with_legend_and_totals() {
    let categories: Vec<String> = ["万州区", "城口县"].map(String::from).to_vec();
    let series = vec![
        Series {
            name: "脱贫不稳定户".into(),
            values: vec![10.0, 4.0],
        },
        Series {
            name: "边缘易致贫户".into(),
            values: vec![5.0, f64::NAN],
        },
        Series {
            name: "突发严重困难户".into(),
            values: vec![1.0],
        },
    ];
    let nodes = parse(&stacked_bar_chart(&LABELS, &categories, &series));
    // Segments: 3 for 万州区, 1 for 城口县 (NaN and missing have none).
    assert_eq!(count(&nodes, "rect", Some("zx-seg")), 4);
    assert_eq!(count(&nodes, "rect", Some("zx-key")), 3);
    let t = texts(&nodes);
    assert!(
        t.contains(&"16".to_owned()) && t.contains(&"4".to_owned()),
        "{t:?}"
    );
    for s in &series {
        assert!(t.contains(&s.name));
    }
}

#[test]
fn histogram_threshold_line_at_its_value() {
    // Ten bins of 1000 yuan from 0 to 10000; the plot runs from x = 50 to 620, so 6000 yuan
    // is at 50 + 0.6 × 570 = 392.
    let bins: Vec<Bin> = (0..10)
        .map(|i| Bin {
            from: f64::from(i) * 1000.0,
            to: f64::from(i + 1) * 1000.0,
            count: (i * 7 % 5) as u64,
        })
        .collect();
    let t = Threshold {
        value: 6000.0,
        label: "监测范围 6000元".into(),
    };
    let nodes = parse(&histogram(&LABELS, &bins, Some(&t)));
    assert_eq!(count(&nodes, "rect", Some("zx-bin")), 10);
    let line = nodes
        .iter()
        .find(|n| n.attrs.get("class").map(String::as_str) == Some("zx-threshold"))
        .unwrap();
    assert_eq!(line.attrs["x1"], "392");
    assert_eq!(line.attrs["x2"], "392");
    assert!(texts(&nodes).contains(&"监测范围 6000元".to_owned()));
    // A threshold beyond the bins widens the axis: 0..12000, 12000 at the right edge, 620.
    let far = Threshold {
        value: 12000.0,
        label: "z".into(),
    };
    let nodes = parse(&histogram(&LABELS, &bins, Some(&far)));
    let line = nodes
        .iter()
        .find(|n| n.attrs.get("class").map(String::as_str) == Some("zx-threshold"))
        .unwrap();
    assert_eq!(line.attrs["x1"], "620");
    // All counts 0: no division by zero.
    let zero = [Bin {
        from: 0.0,
        to: 1.0,
        count: 0,
    }];
    assert!(!histogram(&LABELS, &zero, Some(&t)).contains("NaN"));
}

#[test]
fn line_chart_with_gaps_legend_and_months() {
    let months: Vec<String> = (1..=6).map(|m| format!("2025-{m:02}")).collect();
    let series = vec![
        Series {
            name: "监测户".into(),
            values: vec![10.0, 12.0, f64::NAN, 15.0, 16.0, 18.0],
        },
        Series {
            name: "已消除风险".into(),
            values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        },
    ];
    let svg = line_chart(&LABELS, &months, &series);
    let nodes = parse(&svg);
    assert_eq!(count(&nodes, "g", Some("zx-series")), 2);
    // Series 1 breaks at the gap: two runs; series 2 one.
    assert_eq!(count(&nodes, "path", None), 3);
    assert_eq!(count(&nodes, "circle", None), 11);
    let t = texts(&nodes);
    for m in &months {
        assert!(t.contains(m), "{m}");
    }
    assert!(t.contains(&"监测户".to_owned()) && t.contains(&"已消除风险".to_owned()));
    assert!(!svg.contains("NaN"));
    // Flat zero and negative series keep a valid axis.
    let flat = vec![Series {
        name: "a".into(),
        values: vec![0.0, 0.0],
    }];
    assert!(!line_chart(&LABELS, &months[..2], &flat).contains("NaN"));
    let neg = vec![Series {
        name: "a".into(),
        values: vec![-3.0, f64::MAX],
    }];
    parse(&line_chart(&LABELS, &months[..2], &neg));
}

#[test]
fn the_map_links_every_county_with_its_name_and_value() {
    let all = counties();
    assert_eq!(all.len(), 38);
    // Values for all but the last county: 1, 2, ..., 37.
    let values: Vec<MapValue> = all
        .iter()
        .take(37)
        .enumerate()
        .map(|(i, c)| MapValue {
            code: c.code.clone(),
            value: (i + 1) as f64,
        })
        .collect();
    let href = |code: &str| Some(format!("/divisions/{code}000000?lang=zh&x=<y>"));
    let svg = choropleth(&LABELS, &values, Classing::Quantiles, Lang::Zh, &href);
    let nodes = parse(&svg);
    let links: Vec<usize> = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.name == "a")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(links.len(), 38);
    assert_eq!(count(&nodes, "path", None), 38);
    let first = &nodes[links[0]];
    assert_eq!(
        first.attrs["href"],
        format!("/divisions/{}000000?lang=zh&x=<y>", all[0].code)
    );
    assert_eq!(
        child_title(&nodes, links[0]).unwrap(),
        format!("{}: 1", all[0].name_zh)
    );
    assert_eq!(
        child_title(&nodes, links[37]).unwrap(),
        format!("{}: 暂无数据", all[37].name_zh)
    );
    let grey = nodes
        .iter()
        .filter(|n| n.name == "path" && n.attrs["fill"] == NO_DATA_GREY)
        .count();
    assert_eq!(grey, 1);
    // Legend: quantiles of 1..=37 (ranks 0, 7, 14, 22, 29 -> 1, 8, 15, 23, 30) and no data.
    let t = texts(&nodes);
    for row in [
        "1 – 8 (7)",
        "8 – 15 (7)",
        "15 – 23 (8)",
        "23 – 30 (7)",
        "30 – 37 (8)",
        "暂无数据 (1)",
    ] {
        assert!(t.contains(&row.to_owned()), "{row} in {t:?}");
    }
    // English names.
    let svg = choropleth(&LABELS, &values, Classing::Quantiles, Lang::En, &href);
    assert!(svg.contains(&all[0].name_en));
    println!("map SVG: {} bytes", svg.len());
    assert!(svg.len() < 300_000, "{} bytes", svg.len());
}

#[test]
fn a_map_without_values_is_grey_and_says_no_data() {
    let nodes = parse(&choropleth(
        &LABELS,
        &[],
        Classing::EqualIntervals,
        Lang::En,
        &|c| Some(format!("/d/{c}")),
    ));
    assert_eq!(count(&nodes, "a", None), 38);
    assert!(
        nodes
            .iter()
            .filter(|n| n.name == "path")
            .all(|n| n.attrs["fill"] == NO_DATA_GREY)
    );
    assert!(texts(&nodes).contains(&"暂无数据 (38)".to_owned()));
    // A link the caller got wrong is not written.
    let svg = choropleth(&LABELS, &[], Classing::Quantiles, Lang::En, &|_| {
        Some("javascript:alert(1)".into())
    });
    assert!(!svg.contains("javascript"));
    // Counties the reader may not open are drawn without a link, still with their title.
    let first = counties()[0].code.clone();
    let nodes = parse(&choropleth(
        &LABELS,
        &[],
        Classing::Quantiles,
        Lang::En,
        &|c| (c == first).then(|| format!("/d/{c}")),
    ));
    assert_eq!(count(&nodes, "a", None), 1);
    assert_eq!(count(&nodes, "path", None), 38);
    assert_eq!(count(&nodes, "title", None), 38 + 1);
}

fn any_value() -> impl proptest::strategy::Strategy<Value = f64> {
    use proptest::prelude::*;
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        -1e6..1e6f64,
    ]
}

proptest::proptest! {
    /// Whatever the values and labels, every picture is well-formed XML without "NaN".
    #[test]
    fn any_input_gives_a_valid_picture(
        values in proptest::collection::vec(any_value(), 0..12),
        label in "\\PC{0,12}",
    ) {
        let labels = Labels { title: &label, description: &label, no_data: &label };
        let bars: Vec<Bar> = values.iter().map(|v| Bar::new(label.clone(), *v)).collect();
        let series = vec![Series { name: label.clone(), values: values.clone() }];
        let cats: Vec<String> = values.iter().map(|_| label.clone()).collect();
        let bins: Vec<Bin> = values.windows(2).map(|w| Bin { from: w[0], to: w[1], count: 3 }).collect();
        let map_values: Vec<MapValue> = counties().iter().zip(&values).map(|(c, v)| MapValue { code: c.code.clone(), value: *v }).collect();
        let threshold = Threshold { value: values.first().copied().unwrap_or(0.0), label: label.clone() };
        let pictures = [
            bar_chart(&labels, &bars, Orientation::Horizontal),
            bar_chart(&labels, &bars, Orientation::Vertical),
            stacked_bar_chart(&labels, &cats, &series),
            histogram(&labels, &bins, Some(&threshold)),
            line_chart(&labels, &cats, &series),
            choropleth(&labels, &map_values, Classing::EqualIntervals, Lang::En, &|c| Some(c.to_owned())),
        ];
        for svg in pictures {
            proptest::prop_assert!(!svg.contains("NaN"), "{}", svg);
            parse(&svg);
        }
    }
}
