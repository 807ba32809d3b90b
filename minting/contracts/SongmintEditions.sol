// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC1155Supply} from "@openzeppelin/contracts/token/ERC1155/extensions/ERC1155Supply.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title SongmintEditions: capped ERC-1155 editions with cheap, content-addressed metadata URIs.
/// @notice Each token id is created once with an edition cap and minted up to that cap, in one
/// transaction or several. Metadata URIs cost one storage slot per token: the slot packs the cap,
/// a flag byte and the index of a URI prefix stored once per release (`ipfs://<dirCID>/metadata/`),
/// and `uri(id)` is `prefix + <id as 64 lowercase hex digits> + ".json"`, the ERC-1155 `{id}` rule
/// spelled out. Prefix 0 is the classic base URI with a literal `{id}` clients substitute; any
/// token can also carry a full per-token URI override. Metadata of a token can be frozen for good.
/// Royalties follow ERC-2981 (a default plus per-token overrides); `contractURI()` follows ERC-7572;
/// metadata changes emit ERC-4906 events.
///
/// Sales: every token can carry a primary sale (native-currency price, a time window, a per-wallet
/// limit, a pause switch and an optional merkle allowlist whose leaves bind (wallet, max quantity,
/// price)); collectors call `purchase` / `purchaseAllowlisted` and the payment goes straight to the
/// token's funds recipient (a `SongmintSplit` or any address). Gasless creation: `registerTokens`
/// stores one merkle root for a whole release; the first purchase of a token (`purchaseLazy`)
/// proves its configuration (cap, URI prefix, sale) against that root, creates it and mints.
///
/// Deployment: this contract is the implementation behind EIP-1167 clones made by
/// `SongmintFactory`; its own constructor disables initialisers, each clone is set up once by
/// `initialize`.
contract SongmintEditions is ERC1155Supply, ERC2981, AccessControl, Initializable {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// One storage slot per token: everything `uri`, `mint` and `exists` need.
    struct Token {
        uint64 cap; // edition cap; 0 = never created
        uint32 prefix; // 0 = base URI with `{id}`; n >= 1 = _prefixes[n]
        bool frozen; // metadata frozen for good
        bool hasOverride; // a full per-token URI lives in _overrides[id]
    }

    string public name;
    string public symbol;
    string private _contractURI;
    uint32 private _prefixCount;
    mapping(uint32 index => string prefix) private _prefixes;
    mapping(bytes32 prefixHash => uint32 index) private _prefixIndex;
    mapping(uint256 id => Token) private _tokens;
    mapping(uint256 id => string uri) private _overrides;

    /// Everything `initialize` sets (a struct: one calldata argument for the factory to forward).
    struct Config {
        string name;
        string symbol;
        string baseURI; // `{id}` template of prefix 0 ("" = none)
        string contractURI;
        address admin; // DEFAULT_ADMIN_ROLE + MINTER_ROLE
        address royaltyReceiver; // 0 = no default royalty
        uint96 royaltyBps;
        address fundsRecipient; // where sale revenue goes unless a sale names its own; 0 = admin
    }

    /// A token's primary sale, as the admin sets it.
    struct SaleConfig {
        uint88 price; // wei per edition in the public sale
        uint40 presaleStart; // allowlisted wallets may buy from here (0 = only from `start`)
        uint40 start; // the public sale opens (0 = at once)
        uint40 end; // the sale closes, exclusive (0 = never)
        uint32 perWallet; // public editions per wallet (0 = no limit)
        bool paused;
        address recipient; // 0 = the contract's funds recipient
        bytes32 allowlistRoot; // merkle root of keccak256(abi.encode(wallet, maxQuantity, price)); 0 = none
    }

    /// A token registered lazily: its leaf is keccak256(abi.encode(LazyToken)) under a root given to
    /// `registerTokens`.
    struct LazyToken {
        uint256 id;
        uint64 cap;
        uint32 prefix;
        SaleConfig sale;
    }

    /// Storage of a sale: three slots (the first packs every number and flag).
    struct Sale {
        uint88 price;
        uint40 presaleStart;
        uint40 start;
        uint40 end;
        uint32 perWallet;
        bool paused;
        bool configured;
        address recipient;
        bytes32 allowlistRoot;
    }

    /// Editions one wallet bought of one token, in the public sale and through the allowlist.
    struct Bought {
        uint128 publicSale;
        uint128 allowlist;
    }

    address public fundsRecipient;
    mapping(uint256 id => Sale) private _sales;
    mapping(uint256 id => mapping(address wallet => Bought)) private _bought;
    mapping(bytes32 root => bool) public tokenRootRegistered;

    // ---- errors: decoded into plain sentences by minting.chain ------------------------------
    error TokenAlreadyExists(uint256 id);
    error TokenDoesNotExist(uint256 id);
    error InvalidEditionCap(uint256 id, uint256 cap);
    error EditionCapExceeded(uint256 id, uint256 cap, uint256 supplyAfter);
    error UnknownUriPrefix(uint32 index);
    error EmptyUri();
    error MetadataIsFrozen(uint256 id);
    error LengthMismatch(uint256 ids, uint256 amounts, uint256 caps);
    // sales: every revert a collector can hit
    error SaleNotConfigured(uint256 id);
    error SaleNotStarted(uint256 id, uint256 start);
    error SaleEnded(uint256 id, uint256 end);
    error SaleIsPaused(uint256 id);
    error WrongPayment(uint256 id, uint256 expected, uint256 sent);
    error WalletLimitExceeded(uint256 id, uint256 limit, uint256 boughtAfter);
    error AllowlistLimitExceeded(uint256 id, uint256 limit, uint256 boughtAfter);
    error NotOnAllowlist(uint256 id, address wallet);
    error ZeroQuantity();
    error PaymentFailed(address recipient);
    error InvalidSaleWindow(uint256 presaleStart, uint256 start, uint256 end);
    error InvalidTokenProof(uint256 id);

    // ---- events -----------------------------------------------------------------------------
    /// ERC-7572: the contract-level metadata changed.
    event ContractURIUpdated();
    /// A release's URI prefix was registered under `index`.
    event UriPrefixAdded(uint32 indexed index, string prefix);
    /// OpenSea's convention: the token's metadata will never change again.
    event PermanentURI(string value, uint256 indexed id);
    /// ERC-4906: the metadata of token `_tokenId` changed.
    event MetadataUpdate(uint256 _tokenId);
    /// ERC-4906: the metadata of a range of tokens changed (emitted when the base URI changes).
    event BatchMetadataUpdate(uint256 _fromTokenId, uint256 _toTokenId);
    /// The sale of token `id` was set (or replaced).
    event SaleSet(uint256 indexed id, SaleConfig sale);
    event SalePaused(uint256 indexed id, bool paused);
    event FundsRecipientSet(address recipient);
    /// `buyer` bought `quantity` editions of `id` for `paid` wei, sent to `recipient`.
    event Purchased(
        uint256 indexed id, address indexed buyer, uint256 quantity, uint256 paid, address recipient, bool allowlisted
    );
    /// A release's lazily created tokens were registered under `root` (or unregistered).
    event TokensRegistered(bytes32 indexed root, bool registered);

    /// The implementation behind the clones: never initialised itself.
    constructor() ERC1155("") {
        _disableInitializers();
    }

    /// @notice Set up a clone (once): names, URIs, admin, default royalty and funds recipient.
    function initialize(Config calldata c) external initializer {
        name = c.name;
        symbol = c.symbol;
        if (bytes(c.baseURI).length != 0) _setURI(c.baseURI);
        if (bytes(c.contractURI).length != 0) _contractURI = c.contractURI;
        _grantRole(DEFAULT_ADMIN_ROLE, c.admin);
        _grantRole(MINTER_ROLE, c.admin);
        if (c.royaltyReceiver != address(0)) _setDefaultRoyalty(c.royaltyReceiver, c.royaltyBps);
        fundsRecipient = c.fundsRecipient == address(0) ? c.admin : c.fundsRecipient;
    }

    // ---- creating and minting ---------------------------------------------------------------

    /// @notice Register a URI prefix (e.g. `ipfs://<dirCID>/metadata/`) once; returns its index.
    /// Idempotent: a prefix registered before returns its existing index and emits nothing.
    function addUriPrefix(string calldata prefix) external onlyRole(MINTER_ROLE) returns (uint32 index) {
        if (bytes(prefix).length == 0) revert EmptyUri();
        bytes32 h = keccak256(bytes(prefix));
        index = _prefixIndex[h];
        if (index != 0) return index;
        index = ++_prefixCount;
        _prefixes[index] = prefix;
        _prefixIndex[h] = index;
        emit UriPrefixAdded(index, prefix);
    }

    /// @notice Create token `id` with edition cap `cap` under URI prefix `prefix` and mint `amount`.
    function create(address to, uint256 id, uint256 amount, uint64 cap, uint32 prefix, bytes calldata data)
        external
        onlyRole(MINTER_ROLE)
    {
        _checkPrefix(prefix);
        _createOne(id, cap, prefix);
        emit URI(_prefixedURI(_prefixOf(prefix), prefix, id), id);
        _mint(to, id, amount, data);
    }

    /// @notice Create several tokens under one URI prefix and mint them in one transaction.
    function createBatch(
        address to,
        uint256[] calldata ids,
        uint256[] calldata amounts,
        uint64[] calldata caps,
        uint32 prefix,
        bytes calldata data
    ) external onlyRole(MINTER_ROLE) {
        uint256 n = ids.length;
        if (amounts.length != n || caps.length != n) revert LengthMismatch(n, amounts.length, caps.length);
        _checkPrefix(prefix);
        string memory p = _prefixOf(prefix); // read the prefix from storage once per batch
        for (uint256 i; i < n; ++i) {
            uint256 id = ids[i];
            _createOne(id, caps[i], prefix);
            emit URI(_prefixedURI(p, prefix, id), id);
        }
        _mintBatch(to, ids, amounts, data);
    }

    /// @notice Mint more editions of an existing token, up to its cap.
    function mint(address to, uint256 id, uint256 amount, bytes calldata data) external onlyRole(MINTER_ROLE) {
        if (_tokens[id].cap == 0) revert TokenDoesNotExist(id);
        _mint(to, id, amount, data);
    }

    /// @notice Mint more editions of several existing tokens, each up to its cap.
    function mintBatch(address to, uint256[] calldata ids, uint256[] calldata amounts, bytes calldata data)
        external
        onlyRole(MINTER_ROLE)
    {
        if (amounts.length != ids.length) revert LengthMismatch(ids.length, amounts.length, ids.length);
        for (uint256 i; i < ids.length; ++i) {
            if (_tokens[ids[i]].cap == 0) revert TokenDoesNotExist(ids[i]);
        }
        _mintBatch(to, ids, amounts, data);
    }

    // ---- metadata -----------------------------------------------------------------------------

    /// @notice The token's metadata URI (ERC-1155 metadata extension).
    function uri(uint256 id) public view override returns (string memory) {
        Token memory t = _tokens[id];
        if (t.hasOverride) return _overrides[id];
        return _prefixedURI(_prefixOf(t.prefix), t.prefix, id);
    }

    /// @notice ERC-7572 contract-level metadata.
    function contractURI() external view returns (string memory) {
        return _contractURI;
    }

    function setContractURI(string calldata newURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _contractURI = newURI;
        emit ContractURIUpdated();
    }

    /// @notice Change the `{id}` base URI that tokens created under prefix 0 use.
    function setBaseURI(string calldata newURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setURI(newURI);
        emit BatchMetadataUpdate(0, type(uint256).max);
    }

    /// @notice Give token `id` a full URI of its own (overrides any prefix).
    function setTokenURI(uint256 id, string calldata newURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Token storage t = _mutable(id);
        if (bytes(newURI).length == 0) revert EmptyUri();
        _overrides[id] = newURI;
        t.hasOverride = true;
        emit URI(newURI, id);
        emit MetadataUpdate(id);
    }

    /// @notice Move token `id` to another registered prefix (dropping any per-token override).
    function setTokenUriPrefix(uint256 id, uint32 prefix) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Token storage t = _mutable(id);
        _checkPrefix(prefix);
        t.prefix = prefix;
        if (t.hasOverride) {
            t.hasOverride = false;
            delete _overrides[id];
        }
        emit URI(uri(id), id);
        emit MetadataUpdate(id);
    }

    /// @notice Freeze token `id`'s metadata URI for good. A token on the mutable `{id}` base URI is
    /// pinned to the base URI of today first, so that a later `setBaseURI` cannot change it.
    function freezeMetadata(uint256 id) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Token storage t = _mutable(id);
        if (t.prefix == 0 && !t.hasOverride) {
            _overrides[id] = super.uri(id);
            t.hasOverride = true;
        }
        t.frozen = true;
        emit PermanentURI(uri(id), id);
    }

    /// @notice Everything about token `id` in one call.
    function tokenInfo(uint256 id)
        external
        view
        returns (uint64 cap, uint32 prefix, bool frozen, bool hasOverride, uint256 supply)
    {
        Token memory t = _tokens[id];
        return (t.cap, t.prefix, t.frozen, t.hasOverride, totalSupply(id));
    }

    /// @notice Whether token `id` was created (even if none of it is minted).
    function exists(uint256 id) public view override returns (bool) {
        return _tokens[id].cap != 0;
    }

    function uriPrefix(uint32 index) external view returns (string memory) {
        if (index == 0 || index > _prefixCount) revert UnknownUriPrefix(index);
        return _prefixes[index];
    }

    function uriPrefixCount() external view returns (uint32) {
        return _prefixCount;
    }

    /// @notice The index of a registered prefix, 0 when it was never registered.
    function uriPrefixIndex(string calldata prefix) external view returns (uint32) {
        return _prefixIndex[keccak256(bytes(prefix))];
    }

    // ---- sales --------------------------------------------------------------------------------

    /// @notice Set (or replace) the primary sale of an existing token.
    function setSale(uint256 id, SaleConfig calldata s) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_tokens[id].cap == 0) revert TokenDoesNotExist(id);
        _setSale(id, s);
    }

    /// @notice Pause or resume the sale of token `id`.
    function setSalePaused(uint256 id, bool paused) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Sale storage s = _sales[id];
        if (!s.configured) revert SaleNotConfigured(id);
        s.paused = paused;
        emit SalePaused(id, paused);
    }

    /// @notice Where sale revenue goes for sales that name no recipient of their own.
    function setFundsRecipient(address recipient) external onlyRole(DEFAULT_ADMIN_ROLE) {
        fundsRecipient = recipient;
        emit FundsRecipientSet(recipient);
    }

    /// @notice The sale of token `id` and the editions `wallet` bought of it (public, allowlist).
    /// Public purchases are counted only while the sale has a per-wallet limit.
    function saleInfo(uint256 id, address wallet)
        external
        view
        returns (Sale memory sale, address recipient, uint256 boughtPublic, uint256 boughtAllowlist)
    {
        sale = _sales[id];
        recipient = sale.recipient == address(0) ? fundsRecipient : sale.recipient;
        Bought memory b = _bought[id][wallet];
        return (sale, recipient, b.publicSale, b.allowlist);
    }

    /// @notice Buy `quantity` editions of token `id` at the public price; they go to the caller.
    function purchase(uint256 id, uint256 quantity) external payable {
        _purchase(id, quantity);
    }

    function _purchase(uint256 id, uint256 quantity) private {
        Sale memory s = _openSale(id, quantity);
        if (block.timestamp < s.start) revert SaleNotStarted(id, s.start);
        if (s.perWallet != 0) {
            // counted only where a limit applies: an unlimited sale spends no storage slot per wallet
            Bought storage b = _bought[id][msg.sender];
            uint256 after_ = b.publicSale + quantity;
            if (after_ > s.perWallet) revert WalletLimitExceeded(id, s.perWallet, after_);
            b.publicSale = uint128(after_);
        }
        _settle(id, s, quantity, uint256(s.price) * quantity, false);
    }

    /// @notice Buy through the allowlist: the caller's leaf (caller, `maxQuantity`, `price`) must be
    /// in the sale's merkle tree (`proof`: sorted-pair keccak, as OpenZeppelin's MerkleProof).
    function purchaseAllowlisted(
        uint256 id,
        uint256 quantity,
        uint256 maxQuantity,
        uint256 price,
        bytes32[] calldata proof
    ) external payable {
        Sale memory s = _openSale(id, quantity);
        uint256 opens = s.presaleStart != 0 && s.presaleStart < s.start ? s.presaleStart : s.start;
        if (block.timestamp < opens) revert SaleNotStarted(id, opens);
        bytes32 leaf = keccak256(abi.encode(msg.sender, maxQuantity, price));
        if (s.allowlistRoot == 0 || !MerkleProof.verifyCalldata(proof, s.allowlistRoot, leaf)) {
            revert NotOnAllowlist(id, msg.sender);
        }
        Bought storage b = _bought[id][msg.sender];
        uint256 after_ = b.allowlist + quantity;
        if (after_ > maxQuantity) revert AllowlistLimitExceeded(id, maxQuantity, after_);
        b.allowlist = uint128(after_);
        _settle(id, s, quantity, price * quantity, true);
    }

    // ---- gasless creation -----------------------------------------------------------------------

    /// @notice Register (or, with `registered` false, revoke) a merkle root of LazyToken leaves: the
    /// tokens exist once proven, at their first purchase or `createLazy`.
    function registerTokens(bytes32 root, bool registered) external onlyRole(MINTER_ROLE) {
        tokenRootRegistered[root] = registered;
        emit TokensRegistered(root, registered);
    }

    /// @notice Create a registered token from its proof (anyone may; nothing is minted).
    function createLazy(LazyToken calldata t, bytes32[] calldata proof) public {
        if (_tokens[t.id].cap != 0) revert TokenAlreadyExists(t.id);
        bytes32 root = MerkleProof.processProofCalldata(proof, keccak256(abi.encode(t)));
        if (!tokenRootRegistered[root]) revert InvalidTokenProof(t.id);
        _checkPrefix(t.prefix);
        _createOne(t.id, t.cap, t.prefix);
        emit URI(_prefixedURI(_prefixOf(t.prefix), t.prefix, t.id), t.id);
        _setSale(t.id, t.sale);
    }

    /// @notice The first purchase of a lazily registered token: create it from its proof, then buy.
    /// A token that exists already is simply bought (the proof is not checked again).
    function purchaseLazy(LazyToken calldata t, bytes32[] calldata proof, uint256 quantity) external payable {
        if (_tokens[t.id].cap == 0) createLazy(t, proof);
        _purchase(t.id, quantity);
    }

    // ---- royalties (ERC-2981) -----------------------------------------------------------------

    function setDefaultRoyalty(address receiver, uint96 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDefaultRoyalty(receiver, bps);
    }

    function setTokenRoyalty(uint256 id, address receiver, uint96 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_tokens[id].cap == 0) revert TokenDoesNotExist(id);
        _setTokenRoyalty(id, receiver, bps);
    }

    function resetTokenRoyalty(uint256 id) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _resetTokenRoyalty(id);
    }

    // ---- internals ----------------------------------------------------------------------------

    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC1155, ERC2981, AccessControl)
        returns (bool)
    {
        return interfaceId == bytes4(0x49064906) || super.supportsInterface(interfaceId); // ERC-4906
    }

    function _setSale(uint256 id, SaleConfig calldata s) private {
        if ((s.end != 0 && s.end <= s.start) || (s.presaleStart != 0 && s.end != 0 && s.presaleStart >= s.end)) {
            revert InvalidSaleWindow(s.presaleStart, s.start, s.end);
        }
        _sales[id] = Sale({
            price: s.price,
            presaleStart: s.presaleStart,
            start: s.start,
            end: s.end,
            perWallet: s.perWallet,
            paused: s.paused,
            configured: true,
            recipient: s.recipient,
            allowlistRoot: s.allowlistRoot
        });
        emit SaleSet(id, s);
    }

    /// The checks every purchase shares (configured, not paused, not ended, a quantity).
    function _openSale(uint256 id, uint256 quantity) private view returns (Sale memory s) {
        s = _sales[id];
        if (!s.configured) revert SaleNotConfigured(id);
        if (s.paused) revert SaleIsPaused(id);
        if (s.end != 0 && block.timestamp >= s.end) revert SaleEnded(id, s.end);
        if (quantity == 0) revert ZeroQuantity();
    }

    /// Take exactly `due`, mint (the cap is checked in `_update`), then pay the recipient.
    function _settle(uint256 id, Sale memory s, uint256 quantity, uint256 due, bool allowlisted) private {
        if (msg.value != due) revert WrongPayment(id, due, msg.value);
        _mint(msg.sender, id, quantity, "");
        address recipient = s.recipient == address(0) ? fundsRecipient : s.recipient;
        if (due != 0) {
            (bool ok,) = payable(recipient).call{value: due}("");
            if (!ok) revert PaymentFailed(recipient);
        }
        emit Purchased(id, msg.sender, quantity, due, recipient, allowlisted);
    }

    /// The cap is enforced here, after every mint, so that no path can exceed it.
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values)
        internal
        override
    {
        super._update(from, to, ids, values);
        if (from == address(0)) {
            for (uint256 i; i < ids.length; ++i) {
                uint256 id = ids[i];
                uint256 cap = _tokens[id].cap;
                uint256 supply = totalSupply(id);
                if (supply > cap) revert EditionCapExceeded(id, cap, supply);
            }
        }
    }

    function _createOne(uint256 id, uint64 cap, uint32 prefix) private {
        if (_tokens[id].cap != 0) revert TokenAlreadyExists(id);
        if (cap == 0) revert InvalidEditionCap(id, cap);
        _tokens[id] = Token({cap: cap, prefix: prefix, frozen: false, hasOverride: false});
    }

    function _prefixOf(uint32 prefix) private view returns (string memory) {
        return prefix == 0 ? super.uri(0) : _prefixes[prefix];
    }

    /// The URI of a token on `prefix` (`p` is that prefix's string, or the `{id}` base URI for 0).
    function _prefixedURI(string memory p, uint32 prefix, uint256 id) private pure returns (string memory) {
        return prefix == 0 ? p : string.concat(p, _hex64(id), ".json");
    }

    function _checkPrefix(uint32 prefix) private view {
        if (prefix > _prefixCount) revert UnknownUriPrefix(prefix);
    }

    function _mutable(uint256 id) private view returns (Token storage t) {
        t = _tokens[id];
        if (t.cap == 0) revert TokenDoesNotExist(id);
        if (t.frozen) revert MetadataIsFrozen(id);
    }

    /// `id` as 64 lowercase hex digits, no 0x: the ERC-1155 `{id}` substitution. Assembly because
    /// the Solidity loop costs ~10k gas per token and this runs once per new token.
    function _hex64(uint256 id) private pure returns (string memory s) {
        assembly ("memory-safe") {
            s := mload(0x40)
            mstore(0x40, add(s, 0x60)) // length word + 64 characters
            mstore(s, 64)
            let digits := "0123456789abcdef" // left-aligned: byte(k, digits) is digit k
            let p := add(s, 0x60)
            for { let i := 0 } lt(i, 64) { i := add(i, 1) } {
                p := sub(p, 1)
                mstore8(p, byte(and(id, 15), digits))
                id := shr(4, id)
            }
        }
    }
}
