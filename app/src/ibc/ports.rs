//! ICS-26: the IBC router, mapping ports to the application modules that
//! own them. `transfer` is the first; consumer-chain modules add theirs in
//! [`router`].

use ibc_core::host::types::identifiers::PortId;
use ibc_core::router::module::Module;
use ibc_core::router::router::Router;
use ibc_core::router::types::module::ModuleId;

use super::context::IbcContext;
use super::transfer::{TransferModule, MODULE_ID, PORT};
use crate::store::StoreWrite;

pub struct IbcRouter<'a> {
    routes: Vec<(PortId, ModuleId, Box<dyn Module + 'a>)>,
}

impl<'a> IbcRouter<'a> {
    fn add(&mut self, port: &str, module_id: &str, module: Box<dyn Module + 'a>) {
        let port = port.parse().expect("static port ids are valid");
        self.routes.push((port, ModuleId::new(module_id.to_string()), module));
    }
}

/// The router for one message, its modules sharing the message's context.
pub fn router<'a, S: StoreWrite + Send + Sync + 'a>(ctx: &IbcContext<'a, S>) -> IbcRouter<'a> {
    let mut r = IbcRouter { routes: Vec::new() };
    r.add(PORT, MODULE_ID, Box::new(TransferModule::new(ctx.clone())));
    // Bound on every chain, as ICS binds it only where the consumer module
    // is installed: without the genesis provider client, ChanOpenInit
    // refuses (no channel can be built over a client that does not exist).
    r.add(crate::ccv::CONSUMER_PORT, crate::consumer::channel::MODULE_ID, Box::new(crate::consumer::channel::ConsumerModule::new(ctx.clone())));
    r.add(crate::ccv::PROVIDER_PORT, crate::provider::channel::MODULE_ID, Box::new(crate::provider::channel::ProviderModule::new(ctx.clone())));
    r
}

impl Router for IbcRouter<'_> {
    fn get_route(&self, module_id: &ModuleId) -> Option<&dyn Module> {
        self.routes.iter().find(|(_, m, _)| m == module_id).map(|(_, _, module)| module.as_ref() as &dyn Module)
    }

    fn get_route_mut(&mut self, module_id: &ModuleId) -> Option<&mut dyn Module> {
        match self.routes.iter_mut().find(|(_, m, _)| m == module_id) {
            Some((_, _, module)) => Some(module.as_mut()),
            None => None,
        }
    }

    fn lookup_module(&self, port_id: &PortId) -> Option<ModuleId> {
        self.routes.iter().find(|(p, _, _)| p == port_id).map(|(_, m, _)| m.clone())
    }
}
