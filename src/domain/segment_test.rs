//! Unit tests of `src/domain/segment.rs`.

use super::*;

fn covered(of: u32) -> Vec<(u32, u32)> {
    // Every (shard, bucket) position as a flat interval list, in walk order.
    (0..of)
        .flat_map(|i| ranges(i, of))
        .map(|r| {
            let base = r.shard * FOLLOWER_BUCKETS;
            (base + r.lo, base + r.hi)
        })
        .collect()
}

#[test]
fn segments_cover_every_position_once_in_order() {
    for of in [1, 2, 3, 4, 5, 7, 8, 64, 100, 1000] {
        let parts = covered(of);
        assert_eq!(parts.first().map(|p| p.0), Some(0), "{of}");
        assert_eq!(parts.last().map(|p| p.1), Some(MAX_SEGMENTS), "{of}");
        for w in parts.windows(2) {
            assert_eq!(w[0].1, w[1].0, "gap or overlap with {of} segments");
        }
    }
}

#[test]
fn segments_are_equal_in_size() {
    let size = |i| -> u32 { ranges(i, 7).iter().map(|r| r.hi - r.lo).sum() };
    let sizes: Vec<u32> = (0..7).map(size).collect();
    let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
    assert!(max - min <= 1, "{sizes:?}");
}

#[test]
fn segment_count_is_bounded() {
    assert_eq!(segment_count(0, 5000, 64), 1);
    assert_eq!(segment_count(20, 5000, 64), 1);
    assert_eq!(segment_count(5001, 5000, 64), 2);
    assert_eq!(segment_count(10_000_000, 5000, 64), 64);
    assert_eq!(segment_count(10_000_000, 0, 64), 64);
    assert_eq!(segment_count(10_000_000, 1, u32::MAX), MAX_SEGMENTS);
}

#[test]
fn a_lease_keeps_a_segment_busy_until_it_passes() {
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let plan = SendPlan {
        campaign_id: CampaignId::new("c"),
        brand_id: BrandId::new("b"),
        segments: 2,
        estimated_followers: 0,
        created_at: at("2026-12-01T08:00:00Z"),
    };
    let mut s = Segment::new(&plan, 1);
    assert!(s.free_at(at("2026-12-01T08:00:00Z")));
    s.lease_until = Some(at("2026-12-01T08:02:00Z"));
    assert!(!s.free_at(at("2026-12-01T08:01:59Z")));
    assert!(s.free_at(at("2026-12-01T08:02:00Z")));
    assert_eq!(s.next().seq, 1);
}
