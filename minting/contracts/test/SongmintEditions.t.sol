// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {SongmintEditions} from "../SongmintEditions.sol";
import {SongmintFactory} from "../SongmintFactory.sol";
import {Fixtures} from "./Fixtures.sol";
import {TestBase} from "./Vm.sol";

contract SongmintEditionsTest is TestBase {
    SongmintEditions internal ed;
    address internal constant ROYALTY = address(0xB0B);
    string internal constant PREFIX = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/metadata/";

    event URI(string value, uint256 indexed id);
    event ContractURIUpdated();

    function setUp() public {
        ed = Fixtures.release(new SongmintFactory(), "r", "https://x.test/{id}.json", "ipfs://c/contract.json",
            address(this), ROYALTY, 500);
    }

    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC1155Received.selector;
    }

    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        return this.onERC1155BatchReceived.selector;
    }

    function _one(uint256 id) internal pure returns (uint256[] memory a) {
        a = new uint256[](1);
        a[0] = id;
    }

    function _cap(uint64 c) internal pure returns (uint64[] memory a) {
        a = new uint64[](1);
        a[0] = c;
    }

    // ---- URIs ------------------------------------------------------------------------------

    function test_prefixUriIsErc1155IdRule() public {
        uint32 p = ed.addUriPrefix(PREFIX);
        assertEq(p, 1, "first prefix index");
        assertEq(ed.addUriPrefix(PREFIX), 1, "prefix registration is idempotent");
        vm.expectEmit();
        emit URI(string.concat(PREFIX, "00000000000000000000000000000000000000000000000000000000000000ff.json"), 255);
        ed.create(address(this), 255, 1, 10, p, "");
        assertEq(ed.uri(255), string.concat(PREFIX, "00000000000000000000000000000000000000000000000000000000000000ff.json"),
            "uri");
    }

    function testFuzz_uriHex(uint256 id) public {
        vm.assume(id != 0);
        uint32 p = ed.addUriPrefix("p/");
        ed.create(address(this), id, 0, 1, p, "");
        bytes memory u = bytes(ed.uri(id));
        assertEq(u.length, 2 + 64 + 5, "length");
        uint256 back;
        for (uint256 i = 2; i < 66; ++i) {
            uint8 c = uint8(u[i]);
            assertTrue((c >= 48 && c <= 57) || (c >= 97 && c <= 102), "lowercase hex digit");
            back = (back << 4) | (c <= 57 ? c - 48 : c - 87);
        }
        assertEq(back, id, "hex round trip");
    }

    function test_baseUriAndOverride() public {
        ed.create(address(this), 7, 1, 5, 0, "");
        assertEq(ed.uri(7), "https://x.test/{id}.json", "base template");
        vm.expectEmit();
        emit URI("ar://own", 7);
        ed.setTokenURI(7, "ar://own");
        assertEq(ed.uri(7), "ar://own", "override");
        uint32 p = ed.addUriPrefix("q/");
        ed.setTokenUriPrefix(7, p);
        assertEq(ed.uri(7), "q/0000000000000000000000000000000000000000000000000000000000000007.json", "moved");
    }

    function test_freezePinsTheUri() public {
        ed.create(address(this), 3, 1, 5, 0, "");
        ed.freezeMetadata(3);
        ed.setBaseURI("https://changed/{id}");
        assertEq(ed.uri(3), "https://x.test/{id}.json", "frozen token keeps the old base");
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.MetadataIsFrozen.selector, 3));
        ed.setTokenURI(3, "x");
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.MetadataIsFrozen.selector, 3));
        ed.setTokenUriPrefix(3, 0);
    }

    function test_unknownPrefixAndEmptyUri() public {
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.UnknownUriPrefix.selector, 4));
        ed.create(address(this), 1, 1, 1, 4, "");
        vm.expectRevert(SongmintEditions.EmptyUri.selector);
        ed.addUriPrefix("");
    }

    function test_contractUri() public {
        assertEq(ed.contractURI(), "ipfs://c/contract.json", "initial");
        vm.expectEmit();
        emit ContractURIUpdated();
        ed.setContractURI("ipfs://d");
        assertEq(ed.contractURI(), "ipfs://d", "updated");
    }

    function test_interfaces() public view {
        assertTrue(ed.supportsInterface(0xd9b67a26), "ERC-1155");
        assertTrue(ed.supportsInterface(0x0e89341c), "ERC-1155 metadata URI");
        assertTrue(ed.supportsInterface(0x2a55205a), "ERC-2981");
        assertTrue(ed.supportsInterface(0x7965db0b), "AccessControl");
        assertTrue(ed.supportsInterface(0x01ffc9a7), "ERC-165");
        assertTrue(!ed.supportsInterface(0xffffffff), "not 0xffffffff");
    }

    // ---- editions ----------------------------------------------------------------------------

    function testFuzz_capIsNeverExceeded(uint64 cap, uint256 first, uint256 more) public {
        cap = uint64(bound(cap, 1, type(uint64).max));
        first = bound(first, 0, cap);
        more = bound(more, 1, type(uint128).max);
        ed.create(address(this), 9, first, cap, 0, "");
        if (first + more > cap) {
            vm.expectRevert(abi.encodeWithSelector(SongmintEditions.EditionCapExceeded.selector, 9, cap, first + more));
            ed.mint(address(this), 9, more, "");
            assertEq(ed.totalSupply(9), first, "supply unchanged");
        } else {
            ed.mint(address(this), 9, more, "");
            assertEq(ed.totalSupply(9), first + more, "supply");
        }
        assertTrue(ed.totalSupply(9) <= cap, "supply <= cap");
    }

    function test_createTwiceAndMintUnknownRevert() public {
        ed.createBatch(address(this), _one(1), _one(2), _cap(3), 0, "");
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.TokenAlreadyExists.selector, 1));
        ed.create(address(this), 1, 1, 3, 0, "");
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.TokenDoesNotExist.selector, 2));
        ed.mint(address(this), 2, 1, "");
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.InvalidEditionCap.selector, 5, 0));
        ed.create(address(this), 5, 0, 0, 0, "");
        vm.expectRevert(abi.encodeWithSelector(SongmintEditions.LengthMismatch.selector, 1, 1, 0));
        ed.createBatch(address(this), _one(8), _one(1), new uint64[](0), 0, "");
        assertTrue(ed.exists(1) && !ed.exists(2), "exists");
    }

    function testFuzz_onlyMintersMint(address caller) public {
        vm.assume(caller != address(this));
        ed.create(address(this), 1, 1, 100, 0, "");
        bytes32 role = ed.MINTER_ROLE();
        vm.startPrank(caller);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, role));
        ed.mint(caller, 1, 1, "");
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, role));
        ed.create(caller, 2, 1, 1, 0, "");
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, role));
        ed.addUriPrefix("x/");
        vm.stopPrank();
        assertEq(ed.totalSupply(1), 1, "supply unchanged");
    }

    // ---- royalties -------------------------------------------------------------------------

    function testFuzz_royaltyMaths(uint256 price, uint96 bps, uint96 tokenBps) public {
        price = bound(price, 0, type(uint256).max / 10_000);
        bps = uint96(bound(bps, 0, 10_000));
        tokenBps = uint96(bound(tokenBps, 0, 10_000));
        ed.setDefaultRoyalty(ROYALTY, bps);
        ed.create(address(this), 1, 1, 1, 0, "");
        ed.create(address(this), 2, 1, 1, 0, "");
        ed.setTokenRoyalty(2, address(0xCAFE), tokenBps);
        (address r1, uint256 a1) = ed.royaltyInfo(1, price);
        (address r2, uint256 a2) = ed.royaltyInfo(2, price);
        assertTrue(r1 == ROYALTY && r2 == address(0xCAFE), "receivers");
        assertEq(a1, price * bps / 10_000, "default royalty");
        assertEq(a2, price * tokenBps / 10_000, "per-token royalty");
        assertTrue(a1 <= price && a2 <= price, "royalty <= price");
    }

    function test_royaltyAboveDenominatorReverts() public {
        vm.expectRevert(abi.encodeWithSignature("ERC2981InvalidDefaultRoyalty(uint256,uint256)", 10_001, 10_000));
        ed.setDefaultRoyalty(ROYALTY, 10_001);
    }
}
