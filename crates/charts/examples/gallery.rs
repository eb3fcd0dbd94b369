//! Writes one of each picture into a directory, to look at them in a browser:
//! `cargo run -p zhenxing-charts --example gallery -- DIR`.

use zhenxing_charts::*;

fn main() -> std::io::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let labels = |title: &'static str| Labels {
        title,
        description: title,
        no_data: "暂无数据",
    };
    let bars: Vec<Bar> = [
        ("万州区", 1203.0),
        ("城口县", 860.0),
        ("巫溪县", 1544.0),
        ("酉阳县", 402.5),
    ]
    .map(|(l, v)| Bar::new(l, v))
    .to_vec();
    let cats: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    let series = vec![
        Series {
            name: "脱贫不稳定户".into(),
            values: vec![300.0, 120.0, 410.0, 90.0],
        },
        Series {
            name: "边缘易致贫户".into(),
            values: vec![200.0, 80.0, 150.0, 60.0],
        },
        Series {
            name: "突发严重困难户".into(),
            values: vec![50.0, 20.0, 70.0, 10.0],
        },
    ];
    let months: Vec<String> = (1..=12).map(|m| format!("2025-{m:02}")).collect();
    let trend = vec![
        Series {
            name: "监测户".into(),
            values: (0..12).map(|i| 900.0 + 20.0 * f64::from(i)).collect(),
        },
        Series {
            name: "风险已消除".into(),
            values: (0..12).map(|i| 100.0 + 35.0 * f64::from(i)).collect(),
        },
    ];
    let bins: Vec<Bin> = (0..20)
        .map(|i| Bin {
            from: f64::from(i) * 1000.0,
            to: f64::from(i + 1) * 1000.0,
            count: (200.0 * (-(f64::from(i) - 8.0).powi(2) / 20.0).exp()) as u64,
        })
        .collect();
    let values: Vec<MapValue> = counties()
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, c)| MapValue {
            code: c.code.clone(),
            value: (i * 37 % 101) as f64,
        })
        .collect();
    let county_bars: Vec<Bar> = counties()
        .iter()
        .enumerate()
        .map(|(i, c)| Bar::new(c.name_en.clone(), (i * 53 % 97) as f64))
        .collect();
    let files = [
        (
            "bar-h.svg",
            bar_chart(&labels("横向条形图"), &bars, Orientation::Horizontal),
        ),
        (
            "bar-v.svg",
            bar_chart(&labels("纵向条形图"), &bars, Orientation::Vertical),
        ),
        (
            "stacked.svg",
            stacked_bar_chart(&labels("按类别"), &cats, &series),
        ),
        (
            "histogram.svg",
            histogram(
                &labels("人均纯收入分布"),
                &bins,
                Some(&Threshold {
                    value: 6000.0,
                    label: "监测范围 6000元".into(),
                }),
            ),
        ),
        ("line.svg", line_chart(&labels("月度趋势"), &months, &trend)),
        (
            "map.svg",
            choropleth(
                &labels("各区县指标"),
                &values,
                Classing::Quantiles,
                Lang::Zh,
                &|c| Some(format!("/divisions/{c}000000")),
            ),
        ),
        (
            "bar-v-counties.svg",
            bar_chart(
                &labels("Monitored households by county"),
                &county_bars,
                Orientation::Vertical,
            ),
        ),
        (
            "bar-h-counties.svg",
            bar_chart(
                &labels("Monitored households by county"),
                &county_bars[..8],
                Orientation::Horizontal,
            ),
        ),
        (
            "empty.svg",
            bar_chart(&labels("无数据"), &[], Orientation::Horizontal),
        ),
    ];
    for (name, svg) in files {
        std::fs::write(format!("{dir}/{name}"), &svg)?;
        println!("{name}: {} bytes", svg.len());
    }
    Ok(())
}
