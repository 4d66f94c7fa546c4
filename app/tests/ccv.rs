//! A provider and its consumer chain over a real CCV channel.

use aegis_app::testkit::ccv::*;
use aegis_app::provider::ProviderRead;

#[tokio::test]
async fn smoke() {
    let mut path = CcvPath::setup(CcvConfig::default()).await;
    eprintln!("launch {} transfer {:?} ccv {:?}", path.launch_height, path.transfer_channel, path.ccv_channels());
    let s = path.provider.storage().latest_snapshot();
    eprintln!("{:?}", s.consumer(path.consumer_id).await.unwrap());
    eprintln!("{:?}", s.consumer_validators(path.consumer_id).await.unwrap());
    let r = path.establish_ccv_channel().await;
    let s = path.provider.storage().latest_snapshot();
    eprintln!("{:?}", s.consumer(path.consumer_id).await.unwrap());
    eprintln!("{:?}", s.consumer_validators(path.consumer_id).await.unwrap());
    eprintln!("sent {:?}", path.provider.log.sent);
    eprintln!("{r:?}");
}
