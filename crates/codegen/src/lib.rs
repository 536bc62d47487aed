//! Turns one vendor's OpenAPI spec into Rust client code with progenitor.
//!
//! The generator settings shared by every vendor crate live here and only
//! here: each crate's `build.rs` calls [`build_script`], and `cargo xtask
//! regen` calls [`generate`] to write the committed, readable view of the same
//! code. Both go through [`generate`], so the view and the compiled client can
//! never differ.

#![warn(missing_docs)]

use std::fmt;
use std::path::{Path, PathBuf};

mod lenient;

pub use lenient::Identity;

use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use schemars08::schema::{InstanceType, SchemaObject, SingleOrVec};

/// What a vendor crate adds to the shared settings: hand-written types that
/// stand in for spec schemas.
#[derive(Debug, Default, Clone)]
pub struct Customization {
    /// `(schema name in components.schemas, Rust path)`: the named schema is
    /// not generated; the hand-written type is used wherever it is referenced
    /// (open enums).
    pub replacements: Vec<(String, String)>,
    /// `(schema shape, Rust path)`: every schema of exactly this shape is
    /// mapped to the hand-written type (date-times, captured messages).
    pub conversions: Vec<(SchemaObject, String)>,
    /// The field that identifies the vendor's message: the one response
    /// field that stays required when responses are read leniently (see
    /// [`Customization::identity`]).
    pub identity: Option<Identity>,
    /// Header parameters the client sends with every request as default
    /// headers (LeadConnector's `Version`): left out of the generated
    /// request builders, so that no request can be built without them.
    pub client_headers: Vec<String>,
}

impl Customization {
    /// No customization: every schema generated, no identity, no client
    /// headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Use the hand-written `rust_path` in place of `components.schemas.<schema>`.
    pub fn replace(mut self, schema: &str, rust_path: &str) -> Self {
        self.replacements.push((schema.to_owned(), rust_path.to_owned()));
        self
    }

    /// Map every `$ref: '#/components/schemas/<schema>'` to `rust_path`, which
    /// typically wraps the generated type (e.g. to keep the raw JSON beside it).
    pub fn wrap_references(mut self, schema: &str, rust_path: &str) -> Self {
        let reference = SchemaObject::new_ref(format!("#/components/schemas/{schema}"));
        self.conversions.push((reference, rust_path.to_owned()));
        self
    }

    /// Names the message's identity: `field` of `components.schemas.<schema>`.
    ///
    /// Every response is read leniently: each `required` list of a schema
    /// reachable from a response is emptied and each inline property is
    /// marked `nullable`, so a field the page calls required may come back
    /// absent or `null` without failing the page. The identity field alone
    /// stays required: a message without it cannot be read as a message
    /// (the client isolates it instead). Request parameters stay as strict as
    /// the spec says.
    pub fn identity(mut self, schema: &str, field: &str) -> Self {
        self.identity = Some(Identity { schema: schema.to_owned(), field: field.to_owned() });
        self
    }

    /// Send the header parameter `name` from the client (a default header
    /// set once by the hand-written constructor) instead of as a parameter
    /// of every request builder.
    pub fn client_header(mut self, name: &str) -> Self {
        self.client_headers.push(name.to_owned());
        self
    }

    /// Map every `type: string, format: date-time` schema to `rust_path`.
    pub fn date_time(mut self, rust_path: &str) -> Self {
        let schema = SchemaObject {
            instance_type: Some(SingleOrVec::Single(Box::new(InstanceType::String))),
            format: Some("date-time".to_owned()),
            ..SchemaObject::default()
        };
        self.conversions.push((schema, rust_path.to_owned()));
        self
    }
}

/// Why a spec could not be turned into code.
#[derive(Debug)]
pub enum CodegenError {
    /// The spec file at the path could not be read.
    Read(PathBuf, std::io::Error),
    /// The spec file at the path is not an OpenAPI 3.0 document, with the
    /// parser's message.
    Parse(PathBuf, String),
    /// The spec at the path could not be turned into code (by progenitor or
    /// one of this crate's passes over it), with the reason.
    Generate(PathBuf, String),
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(p, e) => write!(f, "cannot read {}: {e}", p.display()),
            Self::Parse(p, e) => write!(f, "{} is not an OpenAPI 3.0 document: {e}", p.display()),
            Self::Generate(p, e) => write!(f, "progenitor rejected {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for CodegenError {}

/// The settings every vendor client is generated with.
fn settings(custom: &Customization) -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("PartialEq")
        // Every client carries `convo_runtime::ClientState` (its body-size
        // limit), and each crate implements the hooks with
        // `convo_runtime::client_hooks!(Client)`: a crate that forgets it
        // does not compile.
        .with_inner_type("::convo_runtime::ClientState".parse().expect("a type path"))
        .with_hooks(HooksMode::Expected)
        // progenitor adds `api-version: <info.version>` to every request; no
        // vendor asked for it, so it never leaves the machine.
        .with_pre_hook(quote_pre_hook());
    for (schema, path) in &custom.replacements {
        settings.with_replacement(schema, path, [TypeImpl::Display].into_iter());
    }
    for (schema, path) in &custom.conversions {
        settings.with_conversion(schema.clone(), path, std::iter::empty());
    }
    settings
}

fn quote_pre_hook() -> proc_macro2::TokenStream {
    "|_: &::convo_runtime::ClientState, request: &mut ::reqwest::Request| { request.headers_mut().remove(\"api-version\"); }"
        .parse()
        .expect("the pre hook is valid Rust")
}

/// The first line of every generated file.
pub fn header(spec_name: &str) -> String {
    format!(
        "// @generated by convo-codegen from specs/{spec_name}. Do not edit: change the spec, then run `cargo xtask regen`.\n"
    )
}

/// Generates the client for `spec` and returns it as formatted Rust source,
/// starting with the [`header`] line.
pub fn generate(spec: &Path, custom: &Customization) -> Result<String, CodegenError> {
    let text = std::fs::read_to_string(spec).map_err(|e| CodegenError::Read(spec.into(), e))?;
    let mut api: openapiv3::OpenAPI =
        serde_norway::from_str(&text).map_err(|e| CodegenError::Parse(spec.into(), e.to_string()))?;
    // The spec says what the vendor documents; the code reads what live
    // APIs send (see `lenient`).
    lenient::make_responses_lenient(&mut api, custom.identity.as_ref())
        .map_err(|e| CodegenError::Generate(spec.into(), e))?;
    remove_client_headers(&mut api, &custom.client_headers).map_err(|e| CodegenError::Generate(spec.into(), e))?;
    let mut generator = Generator::new(&settings(custom));
    let tokens = generator.generate_tokens(&api).map_err(|e| CodegenError::Generate(spec.into(), e.to_string()))?;
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| CodegenError::Generate(spec.into(), e.to_string()))?;
    use_our_path_encoder(&mut file).map_err(|e| CodegenError::Generate(spec.into(), e))?;
    leave_construction_to_the_crate(&mut file).map_err(|e| CodegenError::Generate(spec.into(), e))?;
    let name = spec.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(format!("{}{}", header(&name), prettyplease::unparse(&file)))
}

/// Takes the client headers out of every operation's parameters (see
/// [`Customization::client_header`]); a name the spec does not have is an
/// error, so that a renamed header cannot silently stop being sent.
fn remove_client_headers(api: &mut openapiv3::OpenAPI, names: &[String]) -> Result<(), String> {
    for name in names {
        let mut found = false;
        for (_, item) in api.paths.paths.iter_mut() {
            let openapiv3::ReferenceOr::Item(item) = item else { continue };
            for operation in lenient::operations_mut(item) {
                operation.parameters.retain(|parameter| {
                    let is_it = matches!(
                        parameter,
                        openapiv3::ReferenceOr::Item(openapiv3::Parameter::Header { parameter_data, .. })
                            if parameter_data.name.eq_ignore_ascii_case(name)
                    );
                    found |= is_it;
                    !is_it
                });
            }
        }
        if !found {
            return Err(format!("no operation has the header parameter `{name}` that the client is to send"));
        }
    }
    Ok(())
}

/// Removes progenitor's `Client::new(baseurl, inner)`, which builds its own
/// HTTP client (a fixed 15 s timeout, no credentials, and an `unwrap`), so
/// that each vendor crate's hand-written `Client::new(base_url,
/// credentials)` is the way in; hides `new_with_client`, which the
/// hand-written constructors call.
fn leave_construction_to_the_crate(file: &mut syn::File) -> Result<(), String> {
    let mut removed = false;
    for item in &mut file.items {
        let syn::Item::Impl(block) = item else { continue };
        let syn::Type::Path(ty) = &*block.self_ty else { continue };
        if block.trait_.is_some() || !ty.path.is_ident("Client") {
            continue;
        }
        let before = block.items.len();
        block.items.retain(|item| !matches!(item, syn::ImplItem::Fn(f) if f.sig.ident == "new"));
        removed |= block.items.len() < before;
        for item in &mut block.items {
            if let syn::ImplItem::Fn(f) = item
                && f.sig.ident == "new_with_client"
            {
                f.attrs.push(syn::parse_quote!(#[doc(hidden)]));
            }
        }
    }
    if removed {
        Ok(())
    } else {
        Err("the generated code no longer has `Client::new`; update `leave_construction_to_the_crate`".to_owned())
    }
}

/// Makes the generated client encode path values with
/// `convo_runtime::encode_path` instead of progenitor's own.
///
/// progenitor's encoder leaves `\` (and `.`, `;`, `=`...) alone, and the URL
/// parser then reads a `\` as a `/`: an id `..\..\admin` would leave its
/// segment and send the request, with its credential, to another path. The
/// generated code imports `encode_path` once, at its top, and every module
/// uses it from there: swapping that one import swaps every call.
fn use_our_path_encoder(file: &mut syn::File) -> Result<(), String> {
    let mut swapped = false;
    for item in &mut file.items {
        let syn::Item::Use(item) = item else { continue };
        let syn::UseTree::Path(path) = &mut item.tree else { continue };
        if path.ident != "progenitor_client" {
            continue;
        }
        let syn::UseTree::Group(group) = &mut *path.tree else { continue };
        let before = group.items.len();
        group.items = std::mem::take(&mut group.items)
            .into_iter()
            .filter(|tree| !matches!(tree, syn::UseTree::Name(name) if name.ident == "encode_path"))
            .collect();
        swapped |= group.items.len() < before;
    }
    if !swapped {
        return Err("the generated code no longer imports `progenitor_client::encode_path` at its top; \
                    update `use_our_path_encoder` so that path values are still encoded by convo_runtime"
            .to_owned());
    }
    file.items.insert(0, syn::parse_quote! { use ::convo_runtime::encode_path; });
    Ok(())
}

/// The whole of a vendor crate's `build.rs`: generates `$OUT_DIR/client.rs`
/// from `specs/<spec_name>` in the calling crate (`CARGO_MANIFEST_DIR`).
pub fn build_script(spec_name: &str, custom: &Customization) {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo"));
    // The crate's own `specs/<vendor>.yaml`: in the repository a link to the
    // one copy in the workspace's `specs/`, in a published package the file
    // itself (cargo stores what a link points at).
    let spec = manifest.join("specs").join(spec_name);
    println!("cargo::rerun-if-changed={}", spec.display());
    let source = match generate(&spec, custom) {
        Ok(source) => source,
        Err(e) => {
            println!("cargo::error={e}");
            return;
        }
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("run by cargo")).join("client.rs");
    if let Err(e) = std::fs::write(&out, source) {
        println!("cargo::error=cannot write {}: {e}", out.display());
    }
}
